"""docs/differences.md: every setting it names to restore the original system's behaviour is a setting of
the catalog, and accepts the value given."""

from __future__ import annotations

import re
from pathlib import Path

from card_transactions.settings.catalog import Settings

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "differences.md").read_text(encoding="utf-8")
ASSIGNMENT = re.compile(r"`([A-Z][A-Z0-9_]+)=([^`]*)`")


def test_every_setting_named_exists_and_accepts_its_value():
    assignments = ASSIGNMENT.findall(PAGE)
    assert ("MAX_RECEIVE_COUNT", "3") in assignments  # the original's maxReceiveCount
    for name, value in assignments:
        assert name in Settings.variables(), f"{name} is no setting"
        Settings.from_env({name: value})  # a ValueError names a value the setting refuses


def test_every_deviation_has_a_reason_and_a_way_back_or_none():
    rows = [line for line in PAGE.splitlines() if line.startswith("| ") and not line.startswith("| original")]
    cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    assert len(cells) >= 25
    assert [row[0] for row in cells if len(row) != 4 or not all(row)] == []
