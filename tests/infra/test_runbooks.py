"""docs/runbooks.md covers every alarm of the synthesized stack, and every alarm links to its section."""

from __future__ import annotations

import re
from pathlib import Path

from card_transactions.stacks.constructs.monitoring import RUNBOOK_SECTIONS, runbook_anchor

RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks.md"
PARTS = ("**Means.**", "**Confirm.**", "**Recover.**", "**Verify.**")


def _sections() -> dict[str, str]:
    """anchor -> text of each ``## `` section."""
    text = RUNBOOKS.read_text(encoding="utf-8")
    chunks = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {runbook_anchor(title): body for title, body in zip(chunks[1::2], chunks[2::2], strict=True)}


def test_every_alarm_links_to_an_existing_section_with_the_four_parts(stack):
    sections = _sections()
    alarms = stack.resources("aws_cloudwatch_metric_alarm").values()
    assert len(alarms) == 15  # 4 error rates + 11, one per kind
    for alarm in alarms:
        match = re.search(r"Runbook: docs/runbooks\.md#([a-z0-9_-]+)$", alarm["alarm_description"])
        assert match, alarm["alarm_description"]
        section = sections.get(match.group(1))
        assert section is not None, f"{alarm['alarm_name']}: no section #{match.group(1)}"
        assert all(part in section for part in PARTS), match.group(1)


def test_every_kind_of_alarm_has_its_section():
    assert {runbook_anchor(title) for title in RUNBOOK_SECTIONS.values()} <= set(_sections())


def test_links_inside_the_runbooks_resolve():
    sections = _sections()
    links = re.findall(r"\]\(#([a-z0-9_-]+)\)", RUNBOOKS.read_text(encoding="utf-8"))
    assert links and [link for link in links if link not in sections] == []


def test_anchor_is_the_one_github_gives_the_heading():
    assert runbook_anchor("Transactions FAILED") == "transactions-failed"
    assert runbook_anchor("Async-failure queue not empty") == "async-failure-queue-not-empty"
    assert runbook_anchor("API 5xx rate") == "api-5xx-rate"
