"""Builds the deployment directory of each function: its handler package plus vendored dependencies.

The Lambda runtime ships boto3/botocore (and jmespath); everything else a handler imports is vendored
at the exact version pinned in ``Pipfile.lock``, as wheels for the function's architecture and
runtime. Vendored trees are cached under ``build/lambda/deps/<key>`` (the key covers versions,
architecture and runtime), so only the first synth downloads anything. ``--no-compile`` and removing
``bin/`` keep the tree, and so the asset hash, identical from build to build.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "handlers"
BUILD = ROOT / "build" / "lambda"
LOCKFILE = ROOT / "Pipfile.lock"
PYTHON_RUNTIME = "python3.12"
# What the handlers import beyond the Lambda runtime (Powertools with its tracer extra, JSON Schema).
RUNTIME_DEPENDENCIES = (
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "wrapt",
    "fastjsonschema",
    "typing-extensions",
)
ENTRY_POINTS = ("validation", "fraud_detection", "failed_transaction")
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache")


def locked_requirements(lockfile: Path = LOCKFILE) -> list[str]:
    """``name==version`` for each runtime dependency, as pinned in the lock file."""
    default = json.loads(lockfile.read_text())["default"]
    missing = [name for name in RUNTIME_DEPENDENCIES if name not in default]
    if missing:
        raise ValueError(f"Pipfile.lock has no pin for Lambda dependencies {missing}")
    return [f"{name}{default[name]['version']}" for name in RUNTIME_DEPENDENCIES]


def vendored_dependencies(architecture: str) -> Path:
    """Directory holding the runtime dependencies for ``architecture``; built once, then reused."""
    if architecture not in _MACHINE:
        raise ValueError(f"architecture must be one of {sorted(_MACHINE)}, got {architecture!r}")
    requirements = locked_requirements()
    key = hashlib.sha256(json.dumps([requirements, architecture, PYTHON_RUNTIME]).encode()).hexdigest()[:16]
    target = BUILD / "deps" / key
    if (target / ".complete").exists():
        return target
    staging = target.with_name(f"{key}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    machine = _MACHINE[architecture]
    result = subprocess.run(  # noqa: S603 - fixed arguments, versions from the lock file
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_RUNTIME.removeprefix("python"),
            "--platform",
            f"manylinux2014_{machine}",
            "--platform",
            f"manylinux_2_28_{machine}",
            "--target",
            str(staging),
            *requirements,
        ],
        capture_output=True,
        check=False,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"vendoring Lambda dependencies failed:\n{result.stdout}\n{result.stderr}")
    shutil.rmtree(staging / "bin", ignore_errors=True)
    for record in staging.glob("*.dist-info/RECORD"):
        record.unlink()  # lists absolute-ish install paths and hashes of files we removed
    (staging / ".complete").write_text("\n".join(requirements) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def function_directory(entry_point: str, architecture: str) -> Path:
    """Deployment directory for one function: dependencies, the shared handler code, its entry point.

    The other functions' entry modules are left out, so changing one function redeploys only it.
    """
    if entry_point not in ENTRY_POINTS:
        raise ValueError(f"entry_point must be one of {ENTRY_POINTS}, got {entry_point!r}")
    deps = vendored_dependencies(architecture)
    target = BUILD / "functions" / f"{entry_point}-{architecture}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(deps, target, ignore=shutil.ignore_patterns(".complete"))
    others = {f"{name}.py" for name in ENTRY_POINTS if name != entry_point}
    shutil.copytree(
        HANDLERS,
        target / "handlers",
        ignore=lambda d, names: set(_IGNORED(d, names)) | (others if Path(d) == HANDLERS else set()),
    )
    return target
