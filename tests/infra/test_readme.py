"""The README's configuration tables are the catalog's, so they cannot drift from the code."""

from pathlib import Path

import card_transactions.settings.__main__ as tables
from card_transactions.settings.catalog import LocalSettings, Settings

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


def test_the_moto_apply_counts_quoted_are_those_of_the_synthesized_stacks(stack, backend_stack):
    """The README's "What moto cannot emulate" quotes how many resources the apply creates of each stack."""
    import re

    from tools.terraform_check.moto_gaps import leave_out

    def count(doc):
        return sum(len(bodies) for bodies in doc.get("resource", {}).values())

    def created_of(doc):
        kept, _ = leave_out(doc)
        return f"{count(kept)} of {count(doc)}"

    quoted = re.search(
        r"(\d+ of \d+) in `state-backend`, (\d+ of \d+) in `transaction-processing`", " ".join(README.split())
    )
    assert quoted, "README: the moto apply counts are missing"
    assert quoted.groups() == (created_of(backend_stack.doc), created_of(stack.doc))
