"""The package ``card-transactions-cdktf``: one import name, nothing loaded on import, the CDK pins of the
lock. (Built and used from a wheel in a fresh environment: tests/terraform/test_library.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tools import namespace_imports

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_module_imports_the_packages_by_their_namespaced_name():
    """A bare ``from stacks...`` would load a second copy of each module beside the namespaced one."""
    stale = [str(path.relative_to(ROOT)) for path in namespace_imports.stale_files()]
    assert not stale, f"run `.venv/bin/python -m tools.namespace_imports`, then ruff: {stale}"


def test_the_rewrite_namespaces_imports_and_module_names_only():
    bare = "handlers"  # spelled apart, or the rewrite would namespace this file's examples too
    before = (
        "from stacks.props import NamingProps\n"
        "    from settings import catalog\n"
        "import settings.__main__ as tables\n"
        f'patched = "{bare}.validation.handler"\n'
        f'fake = "{bare}.nope.handler"\n'
        "from settings and props, the stack is built\n"
        "name = settings.name('queue')\n"
    )
    assert namespace_imports.rewrite(before) == (
        "from card_transactions.stacks.props import NamingProps\n"
        "    from card_transactions.settings import catalog\n"
        "import card_transactions.settings.__main__ as tables\n"
        'patched = "card_transactions.handlers.validation.handler"\n'
        f'fake = "{bare}.nope.handler"\n'
        "from settings and props, the stack is built\n"
        "name = settings.name('queue')\n"
    )


def test_the_namespace_links_the_repositorys_packages():
    for package in namespace_imports.PACKAGES:
        link = ROOT / "card_transactions" / package
        assert link.is_symlink() and link.resolve() == ROOT / package, link


def test_importing_the_package_loads_nothing_else():
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys, card_transactions; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    ours = [name for name in loaded if name.split(".")[0] in {"card_transactions", "cdktf", "constructs"}]
    assert ours == ["card_transactions"]


def test_the_package_requires_the_cdk_of_the_lock_within_its_major():
    default = json.loads((ROOT / "Pipfile.lock").read_text())["default"]
    required = {}
    for requirement in PROJECT["dependencies"]:
        bounds = re.fullmatch(r"([\w-]+)>=([\w.]+),<([\w.]+)", requirement)
        assert bounds, requirement
        name, lower, upper = bounds.groups()
        required[name] = lower
        assert int(upper.split(".")[0]) > int(lower.split(".")[0]) or upper.startswith("0.")
    assert required == {name: default[name]["version"].removeprefix("==") for name in required}
    assert set(required) == {"cdktf", "constructs", "cdktf-cdktf-provider-aws"}
