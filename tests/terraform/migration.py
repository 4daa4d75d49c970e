"""The step both migration tests share: plan the current configuration, with its ``removed.tf``, where the
former resources were applied, and read what Terraform would do to each address."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from card_transactions.stacks.app import REMOVED_FILE, TRANSACTION_STACK
from tools.terraform_check.check import PLAN_ARGS, json_messages
from tools.terraform_check.toolchain import Toolchain, run_terraform


def plan_with_removed_blocks(
    toolchain: Toolchain, check: Any, synth_dir: Path
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """The plan's change summary and each address's actions, saved as ``m.tfplan`` in the workdir."""
    shutil.copy(synth_dir / "stacks" / TRANSACTION_STACK / REMOVED_FILE, check.workdir)
    planned = run_terraform(toolchain, check.workdir, ("plan", "-out=m.tfplan", *PLAN_ARGS), check.env, 300)
    assert planned.returncode == 0, planned.output[-3000:]
    (summary,) = [m["changes"] for m in json_messages(planned.stdout) if m.get("type") == "change_summary"]
    shown = run_terraform(toolchain, check.workdir, ("show", "-json", "m.tfplan"), check.env, 120)
    actions = {c["address"]: c["change"]["actions"] for c in json.loads(shown.stdout)["resource_changes"]}
    return summary, actions
