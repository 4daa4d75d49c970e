"""Turning on the transactions table's change stream updates the existing table in place.

The state an earlier release left is reproduced with real Terraform against moto: the table (with what it
refers to: the key, its policy document, the account) applied without a stream. The current stack's
table is then planned against that state: one in-place update, nothing replaced or destroyed.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from card_transactions.stacks.app import TRANSACTION_STACK
from tools.terraform_check.check import PLAN_ARGS, StackCheck, json_messages
from tools.terraform_check.moto_gaps import ignore_changes
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.workdir import moto_override, write_override, write_stack

pytestmark = pytest.mark.slow
TABLE_PATH = "/TransactionTable/Table"  # the end of its construct path
REFERENCE = re.compile(r"\b(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_]+)\b")


def _table_name(doc: dict[str, Any]) -> str:
    tables = doc["resource"]["aws_dynamodb_table"]
    return next(n for n, b in tables.items() if b["//"]["metadata"]["path"].endswith(TABLE_PATH))


def _closure(doc: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """``doc`` reduced to one resource and everything it refers to, transitively."""
    keep: set[tuple[str, str, str]] = set()
    pending = [("resource", kind, name)]
    while pending:
        section, kind_, name_ = pending.pop()
        if (section, kind_, name_) in keep or name_ not in doc.get(section, {}).get(kind_, {}):
            continue
        keep.add((section, kind_, name_))
        text = json.dumps(doc[section][kind_][name_])
        for data, ref_kind, ref_name in REFERENCE.findall(text):
            pending.append(("data" if data else "resource", ref_kind, ref_name))
    reduced = {k: v for k, v in doc.items() if k not in ("resource", "data", "output")}
    for section, kind_, name_ in keep:
        body = copy.deepcopy(doc[section][kind_][name_])
        reduced.setdefault(section, {}).setdefault(kind_, {})[name_] = body
    return reduced


def _plan_actions(check: StackCheck) -> dict[str, list[str]]:
    result = check._run("plan", "plan", *PLAN_ARGS)
    return {
        m["change"]["resource"]["addr"]: m["change"]["action"]
        for m in json_messages(result.stdout)
        if m.get("type") == "planned_change"
    }


def test_enabling_the_stream_updates_the_table_in_place(
    checks: dict[str, StackCheck], moto: MotoServer, tmp_path: Path
):
    check = checks[TRANSACTION_STACK]
    check.prepare()
    table = _table_name(check.doc)
    current = _closure(check.doc, "aws_dynamodb_table", table)
    assert current["resource"]["aws_dynamodb_table"][table]["stream_enabled"] is True
    earlier = copy.deepcopy(current)
    for attribute in ("stream_enabled", "stream_view_type"):
        del earlier["resource"]["aws_dynamodb_table"][table][attribute]
    # GIVEN the table as an earlier release created it (no stream)
    write_stack(check.workdir, earlier)
    # (moto's read-back gaps, the one documented list, are ignored as in the apply check)
    write_override(check.workdir, moto_override(earlier, moto.endpoint, ignore_changes(earlier)))
    check.init()
    check._run("apply", "apply", "-auto-approve", *PLAN_ARGS)
    # WHEN the current definition is planned against that state
    write_stack(check.workdir, current)
    actions = _plan_actions(check)
    # THEN the table is updated in place and nothing else changes
    assert actions == {f"aws_dynamodb_table.{table}": "update"}
