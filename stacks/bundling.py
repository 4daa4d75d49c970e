"""Builds the deployment package of each function from the installed package: the namespace's
``__init__``, ``card_transactions.handlers`` and ``card_transactions.settings``, plus vendored
dependencies.

The sources are read where Python finds those packages (a checkout or an installed wheel give the same
files, so the same zip), never from a repository path. The Lambda runtime ships boto3/botocore (and
jmespath); everything else a handler imports is vendored at the exact version pinned in
``lambda-requirements.txt`` beside this module (the functions' own pins, shipped with the code; a test
keeps them equal to ``Pipfile.lock``), as wheels for the function's architecture and runtime.

Everything is built under ``build/lambda`` of the working directory (``CARD_TRANSACTIONS_BUILD_DIR``
chooses another place; never inside the installed package): vendored trees under ``deps/<key>`` (the
key covers versions, architecture and runtime), so only the first synth downloads anything;
``--no-compile`` and removing ``bin/`` keep the tree identical from build to build. Each function's zip
is then written reproducibly and cached under ``archives/``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from card_transactions.settings.system import FUNCTIONS

NAMESPACE = "card_transactions"
# The packages a function imports from this library (the handlers read their settings through the
# catalog's declarations).
PACKAGES = (f"{NAMESPACE}.handlers", f"{NAMESPACE}.settings")
BUILD_DIR_ENV = "CARD_TRANSACTIONS_BUILD_DIR"
REQUIREMENTS = Path(__file__).with_name("lambda-requirements.txt")
PYTHON_RUNTIME = "python3.12"
ENTRY_POINTS = tuple(function.entry_point for function in FUNCTIONS)
_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}
_IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache"})
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: archives do not depend on file times


def build_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the packages are built and cached: ``$CARD_TRANSACTIONS_BUILD_DIR``, else ``build/lambda``
    under the working directory (the app's root when ``make synth`` or ``cdktf`` runs it)."""
    return Path(environ.get(BUILD_DIR_ENV) or Path.cwd() / "build" / "lambda").resolve()


def package_dir(package: str) -> Path:
    """The directory Python imports ``package`` from."""
    location = resources.files(package)
    if not isinstance(location, Path):
        raise RuntimeError(f"{package} must be installed as files to be packaged, found {location!r}")
    return location


def function_requirements(path: Path = REQUIREMENTS) -> list[str]:
    """``name==version`` of each dependency the functions import beyond the Lambda runtime."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith("#")]
    unpinned = [line for line in requirements if "==" not in line]
    if unpinned:
        raise ValueError(f"{path.name}: every Lambda dependency needs an exact pin, got {unpinned}")
    return requirements


def vendored_dependencies(architecture: str) -> Path:
    """Directory holding the runtime dependencies for ``architecture``; built once, then reused."""
    if architecture not in _MACHINE:
        raise ValueError(f"architecture must be one of {sorted(_MACHINE)}, got {architecture!r}")
    requirements = function_requirements()
    key = hashlib.sha256(json.dumps([requirements, architecture, PYTHON_RUNTIME]).encode()).hexdigest()[:16]
    target = build_dir() / "deps" / key
    if (target / ".complete").exists():
        return target
    staging = target.with_name(f"{key}.{os.getpid()}.partial")  # synths may run side by side
    shutil.rmtree(staging, ignore_errors=True)
    machine = _MACHINE[architecture]
    result = subprocess.run(  # noqa: S603 - fixed arguments, exact versions from the requirements file
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
    if (target / ".complete").exists():  # another synth finished the same tree first
        shutil.rmtree(staging, ignore_errors=True)
        return target
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _handler_files(entry_point: str) -> list[tuple[str, Path]]:
    """``(archive name, file)`` of the namespace's ``__init__`` and the packages a function needs,
    without the other functions' entry modules."""
    others = {f"{NAMESPACE}/handlers/{name}.py" for name in ENTRY_POINTS if name != entry_point}
    files = [(f"{NAMESPACE}/__init__.py", package_dir(NAMESPACE) / "__init__.py")]
    for package in PACKAGES:
        root = package_dir(package)
        files += [
            (f"{package.replace('.', '/')}/{path.relative_to(root).as_posix()}", path)
            for path in root.rglob("*")
            if path.is_file()
            and not _IGNORED_PARTS.intersection(path.relative_to(root).parts)
            and path.suffix not in {".pyc", ".pyo"}
        ]
    return sorted((name, path) for name, path in files if name not in others)


def _dependency_files(deps: Path) -> list[tuple[str, Path]]:
    return sorted(
        (path.relative_to(deps).as_posix(), path)
        for path in deps.rglob("*")
        if path.is_file() and path.name != ".complete" and "__pycache__" not in path.parts
    )


def function_archive(entry_point: str, architecture: str) -> Path:
    """Deployment zip of one function: dependencies, the shared handler and settings code and its own
    entry point.

    The other functions' entry modules are left out, so changing one function redeploys only it. The
    zip is byte-for-byte reproducible (sorted entries, fixed timestamps and modes) and cached by content,
    so a synth with nothing changed only hashes the handler sources. Processes that synthesize at the
    same time (parallel test workers, a synth beside ``make local``) take turns on ``build_lock``.
    """
    if entry_point not in ENTRY_POINTS:
        raise ValueError(f"entry_point must be one of {ENTRY_POINTS}, got {entry_point!r}")
    with build_lock():
        return _cached_archive(entry_point, architecture)


@contextmanager
def build_lock() -> Iterator[None]:
    """Exclusive use of the build directory across processes, so none reads what another is replacing."""
    build = build_dir()
    build.mkdir(parents=True, exist_ok=True)
    with (build / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _cached_archive(entry_point: str, architecture: str) -> Path:
    deps = vendored_dependencies(architecture)
    files = _dependency_files(deps) + _handler_files(entry_point)
    digest = hashlib.sha256(deps.name.encode())
    for name, path in _handler_files(entry_point):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    archive = build_dir() / "archives" / f"{entry_point}-{architecture}-{digest.hexdigest()[:16]}.zip"
    if archive.exists():
        return archive
    archive.parent.mkdir(parents=True, exist_ok=True)
    for stale in archive.parent.glob(f"{entry_point}-{architecture}-*.zip"):
        if stale != archive:
            stale.unlink(missing_ok=True)
    partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")  # synths may run side by side
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
        for name, path in files:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    partial.replace(archive)  # atomic; a concurrent synth writes the same bytes
    return archive
