"""``python -m tools.wheel [--wheel-dir dist]``: build the wheel of ``card-transactions-cdktf``.

``pip wheel`` (setuptools) runs on a copy of the package's inputs, so setuptools' ``build/lib`` (which
keeps files deleted since an earlier build) and ``*.egg-info`` never touch the checkout, and with fixed
file times, so equal sources give an equal wheel. The links in ``card_transactions/`` are followed: the
wheel holds the files of ``stacks/``, ``handlers/`` and ``settings/`` under ``card_transactions/``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the wheel is built from (the links in card_transactions/ point at the three packages).
INPUTS = ("pyproject.toml", "README.md", "card_transactions", "stacks", "handlers", "settings")
_NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip entry can carry


def build_wheel(wheel_dir: Path) -> Path:
    """The wheel, written into ``wheel_dir``."""
    with tempfile.TemporaryDirectory(prefix="card-transactions-wheel-") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for name in INPUTS:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=_NOT_COPIED)
            else:
                shutil.copy2(ROOT / name, source / name)
        built = Path(scratch) / "dist"
        pip_wheel = ("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(built))
        done = subprocess.run(  # noqa: S603 - this interpreter's pip, fixed arguments
            [sys.executable, "-m", "pip", *pip_wheel, str(source)],
            env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the wheel failed:\n{done.stdout}\n{done.stderr}")
        [wheel] = built.glob("*.whl")
        wheel_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheel, wheel_dir / wheel.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.wheel", description=__doc__)
    parser.add_argument("--wheel-dir", type=Path, default=ROOT / "dist", help="where to write it (dist/)")
    print(build_wheel(parser.parse_args(argv).wheel_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
