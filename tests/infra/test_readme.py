"""The README's configuration tables are the catalog's, so they cannot drift from the code."""

from pathlib import Path

import settings.__main__ as tables
from settings.catalog import LocalSettings, Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_configuration_tables_are_generated_from_the_catalog():
    assert tables.with_tables(README) == README, "run `.venv/bin/python -m settings`"


def test_every_setting_is_documented_in_the_readme():
    missing = [v for v in (*Settings.variables(), *LocalSettings.variables()) if f"| `{v}` |" not in README]
    assert missing == []


def test_quick_start_is_the_two_make_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines() if line.startswith("make ")]
    assert commands == ["make synth", "make test"]


def test_the_environments_and_their_variables_are_documented():
    import re

    root = Path(__file__).resolve().parents[2]
    section = README.split("## Environments", 1)[1].split("\n## ", 1)[0]
    for path in sorted((root / "environments").glob("*.toml")):
        assert f"environments/{path.name}" in README
    assert "make synth|diff|deploy|bootstrap|migrate ENV=<name>" in section
    workflows = "".join(p.read_text() for p in (root / ".github" / "workflows").glob("*.yml"))
    for variable in set(re.findall(r"vars\.([A-Z0-9_]+)", workflows)):
        assert f"`{variable}`" in README, variable
    assert "`.github/allowed-destroys.toml`" in README
    assert "[releases/README.md](releases/README.md)" in README
