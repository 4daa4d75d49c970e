"""What the README and the documentation pages say about the code is generated from it or checked
against it: the configuration tables are the catalog's, the quick start is the two make commands, every
environment and workflow variable is documented, and the moto apply counts are the synthesized stacks'."""

import re
from pathlib import Path

import card_transactions.settings.__main__ as tables
from card_transactions.settings.catalog import Settings
from local.config import LocalSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_configuration_tables_are_generated_from_the_catalog():
    for path, names in tables.pages().items():
        text = path.read_text(encoding="utf-8")
        assert tables.with_blocks(text, names) == text, f"{path.name}: run `.venv/bin/python -m settings`"


def test_every_setting_is_documented_in_the_configuration_pages():
    documented = page("configuration.md") + page("local.md")
    missing = [
        v for v in (*Settings.variables(), *LocalSettings.variables()) if f"| `{v}` |" not in documented
    ]
    assert missing == []


def test_a_page_without_its_block_is_refused():
    try:
        tables.with_blocks("# Configuration\n", ["settings:synth"])
    except ValueError as error:
        assert "<!-- settings:synth -->" in str(error)
    else:
        raise AssertionError("a page without its generated block was accepted")


def test_quick_start_is_the_two_make_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines() if line.startswith("make ")]
    assert commands == ["make synth", "make test"]


def test_the_environments_and_their_variables_are_documented():
    environments, ci = page("environments.md"), page("ci.md")
    for path in sorted((ROOT / "environments").glob("*.toml")):
        assert f"environments/{path.name}" in environments
    assert "make synth|diff|deploy|bootstrap|migrate ENV=<name>" in environments
    workflows = "".join(p.read_text() for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    for variable in set(re.findall(r"vars\.([A-Z0-9_]+)", workflows)):
        assert f"`{variable}`" in ci, variable
    assert "`.github/allowed-destroys.toml`" in ci
    assert "[releases/README.md](../releases/README.md)" in ci


def test_the_moto_apply_counts_quoted_are_those_of_the_synthesized_stacks(stack, backend_stack):
    """docs/terraform-check.md, "What moto cannot emulate", quotes how many resources the apply creates."""
    from tools.terraform_check.moto_gaps import leave_out

    def count(doc):
        return sum(len(bodies) for bodies in doc.get("resource", {}).values())

    def created_of(doc):
        kept, _ = leave_out(doc)
        return f"{count(kept)} of {count(doc)}"

    quoted = re.search(
        r"(\d+ of \d+) in `state-backend`, (\d+ of \d+) in `transaction-processing`",
        " ".join(page("terraform-check.md").split()),
    )
    assert quoted, "docs/terraform-check.md: the moto apply counts are missing"
    assert quoted.groups() == (created_of(backend_stack.doc), created_of(stack.doc))


def test_every_output_of_both_stacks_is_documented(stack, backend_stack):
    outputs = page("outputs.md")
    names = [*stack.doc["output"], *backend_stack.doc["output"]]
    assert [name for name in names if f"`{name}`" not in outputs] == []


def test_the_readme_fits_on_a_screen_or_two_and_links_into_the_site():
    assert len(README.splitlines()) <= 200, "move detail into a docs/ page and link it"
    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)", README))
    assert {"getting-started.md", "library.md", "configuration.md", "differences.md"} <= linked


def test_the_reserved_concurrency_quoted_is_the_synthesized_functions(stack):
    """docs/deploy.md, "Lambda concurrency", adds up the functions' reservations."""
    quoted = re.search(
        r"The functions reserve ([\d + ]+) = (\d+) concurrent executions", " ".join(page("deploy.md").split())
    )
    assert quoted, "docs/deploy.md: the reserved concurrency sum is missing"
    reserved = sorted(
        (f.get("reserved_concurrent_executions", 0) for f in stack.resources("aws_lambda_function").values()),
        reverse=True,
    )
    assert [int(term) for term in quoted.group(1).split("+")] == reserved
    assert int(quoted.group(2)) == sum(reserved)
