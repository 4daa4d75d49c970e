"""The package as a host gets it: the wheel (``tools/wheel.py``) installed, with its dependencies
at the lock's versions and nothing else, into a virtualenv of its own; host apps run there from a
directory of their own, with no path into the checkout.

The virtualenv is kept under ``build/library-env/<key>``, the key covering what it is made of (the
wheel's requirements, the lock's versions, the Python): a new build of the wheel is reinstalled into it
(seconds), the CDK and its 0.5 GB provider only when their versions change.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "card-transactions-cdktf"
ENVIRONMENTS = ROOT / "build" / "library-env"
# The environment a host app runs with: the machine's, without a way into the checkout.
_NOT_PASSED = frozenset({"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIPENV_ACTIVE", "PYTHONSTARTUP"})
PINNED_NODE = ROOT / "node_modules" / "node" / "bin" / "node"


def _run(
    args: list[str], *, env: dict[str, str], cwd: Path | None = None, timeout: int = 900
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    return sorted(
        line.removeprefix("Requires-Dist: ") for line in lines if line.startswith("Requires-Dist: ")
    )


def lock_constraints() -> str:
    """``name==version`` of every package of the lock's default group."""
    default = json.loads((ROOT / "Pipfile.lock").read_text())["default"]
    return "".join(
        f"{name}{entry['version']}\n" for name, entry in sorted(default.items()) if "version" in entry
    )


@dataclass(frozen=True)
class InstalledPackage:
    """A virtualenv holding the wheel and its dependencies."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def environ(self) -> dict[str, str]:
        """The machine's environment without a path into the checkout; the Lambda packages built under
        ``build/library-env/lambda``; the project's Node when installed (the host's choice of Node)."""
        env = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
        env["CARD_TRANSACTIONS_BUILD_DIR"] = str(ENVIRONMENTS / "lambda")
        if PINNED_NODE.exists():
            env["JSII_NODE"] = str(PINNED_NODE)
            env["NODE_OPTIONS"] = "--disable-warning=DEP0044"
        return env

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        """``python <args>`` of this environment in ``cwd``."""
        return _run([str(self.python), *args], cwd=cwd, env=self.environ(), timeout=600)

    def distributions(self) -> dict[str, str]:
        listed = self.run(["-m", "pip", "list", "--format=json", "--disable-pip-version-check"], self.root)
        return {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(listed.stdout)}


def install(wheel: Path) -> InstalledPackage:
    """The environment of ``wheel``: made (or reused) for its requirements at the lock's versions, then
    the wheel (re)installed unless this very wheel already is. Parallel test workers take turns."""
    constraints = lock_constraints()
    recipe = json.dumps([wheel_requirements(wheel), constraints, sys.version_info[:3]])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    ENVIRONMENTS.mkdir(parents=True, exist_ok=True)
    with (ENVIRONMENTS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = InstalledPackage(ENVIRONMENTS / key)
        if not (installed.root / ".complete").exists():
            _make(installed, wheel, constraints)
        stamp = installed.root / ".wheel"
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if not stamp.exists() or stamp.read_text() != digest:
            _pip(installed, "install", "--no-deps", "--force-reinstall", str(wheel))
            stamp.write_text(digest)
    return installed


def _make(installed: InstalledPackage, wheel: Path, constraints: str) -> None:
    for stale in ENVIRONMENTS.iterdir():
        if stale.is_dir() and stale.name != "lambda":
            shutil.rmtree(stale)  # an environment of other versions: 0.5 GB each
    venv.create(installed.root, with_pip=True)
    (installed.root / "constraints.txt").write_text(constraints)
    _pip(installed, "install", "--constraint", str(installed.root / "constraints.txt"), str(wheel))
    (installed.root / ".complete").touch()


def _pip(installed: InstalledPackage, *args: str) -> None:
    _run(
        [str(installed.python), "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        env=installed.environ(),
    )
