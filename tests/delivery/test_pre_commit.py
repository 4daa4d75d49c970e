"""The pre-commit hooks: a valid configuration, local hooks only, and the same checks as `make lint`."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.delivery.helpers import ROOT, VENV_BIN

CONFIG = ROOT / ".pre-commit-config.yaml"


def _hooks() -> list[dict[str, object]]:
    config = yaml.safe_load(CONFIG.read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_the_configuration_is_valid():
    result = subprocess.run(
        [str(VENV_BIN / "pre-commit"), "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hooks_are_local_and_use_the_projects_environment():
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # nothing to download at hook time
    for hook in _hooks():
        assert hook["language"] == "system"
        assert str(hook["entry"]).startswith(".venv/bin/"), hook["id"]


def test_hooks_run_what_make_lint_runs():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    lint = [
        line.strip().removeprefix("$(VENV)/bin/").removesuffix(" .") for line in recipe.group(1).splitlines()
    ]
    hooks = [
        str(hook["entry"]).removeprefix(".venv/bin/").removesuffix(" --force-exclude") for hook in _hooks()
    ]
    assert lint == ["ruff check", "ruff format --check", "mypy"]
    assert set(lint) <= set(hooks)
