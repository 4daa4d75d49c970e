"""``python -m tools.namespace_imports``: import the project's packages by their one import name.

``stacks``, ``settings`` and ``handlers`` are the repository's folders, installed as
``card_transactions.stacks``, ``card_transactions.settings`` and ``card_transactions.handlers`` (the
``card_transactions/`` folder links them), so a host's own packages of those names never collide with
ours. Every module imports them by that name: a top-level import would load a second copy of each module
beside the first. This rewrites ``from stacks... import``, ``import settings... as`` and string literals
that begin with one of their modules' dotted names, in every Python file git tracks or would track, and
prints the files it changed; ``--check`` only lists them and fails (``tests/unit/test_import_name.py``).
Run ``ruff check --select I001 --fix`` and ``ruff format`` after a rewrite: the import blocks re-sort.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "card_transactions"
PACKAGES = ("stacks", "settings", "handlers")
_PACKAGE = "|".join(PACKAGES)
_FROM_IMPORT = re.compile(rf"^(\s*)from ({_PACKAGE})((?:\.\w+)*) import\b", re.MULTILINE)
_IMPORT_AS = re.compile(rf"^(\s*)import ({_PACKAGE})((?:\.\w+)*) as\b", re.MULTILINE)
_MODULE_STRING = re.compile(rf"([\"'])({_PACKAGE})\.(\w+)")


def _is_module(package: str, name: str) -> bool:
    return (ROOT / package / f"{name}.py").is_file() or (ROOT / package / name / "__init__.py").is_file()


def rewrite(text: str) -> str:
    """``text`` with every import of the project's packages under the namespace."""
    text = _FROM_IMPORT.sub(rf"\1from {NAMESPACE}.\2\3 import", text)
    text = _IMPORT_AS.sub(rf"\1import {NAMESPACE}.\2\3 as", text)
    return _MODULE_STRING.sub(
        lambda m: f"{m[1]}{NAMESPACE}.{m[2]}.{m[3]}" if _is_module(m[2], m[3]) else m[0], text
    )


def python_files(root: Path = ROOT) -> list[Path]:
    """The Python files git tracks, and those it would track (untracked, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.py"],  # noqa: S607
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [root / name for name in sorted(set(listed)) if (root / name).is_file()]


def stale_files(root: Path = ROOT) -> list[Path]:
    """Files that still import one of the packages by its bare name."""
    return [path for path in python_files(root) if rewrite(path.read_text()) != path.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.namespace_imports", description=__doc__)
    parser.add_argument("--check", action="store_true", help="list the files to rewrite, change nothing")
    args = parser.parse_args(argv)
    stale = stale_files()
    for path in stale:
        print(path.relative_to(ROOT))
        if not args.check:
            path.write_text(rewrite(path.read_text()))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
