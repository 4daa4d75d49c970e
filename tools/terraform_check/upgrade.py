"""The upgrade check: the current code, planned against the state the last release left, keeps its data.

For each stack of the release snapshot (``releases/last/``, ``tools/release_snapshot.py``):

1. ``terraform apply`` of the release's stateful resources (``tools/stateful.STATEFUL_TYPES``) against
   moto, with ``-target``: Terraform applies every resource they depend on too (keys, policies,
   roles), so the state holds each stateful resource exactly as the release configured it. The rest of
   the stack (functions, API, network) is configuration and is left out: it would double the check's
   time and cannot change whether a stateful resource is replaced (anything a stateful resource refers
   to is applied with it).
2. ``terraform plan`` of the current synth of the same environment against that state, in the same
   directory and against the same moto server: any replacement or deletion of a stateful resource fails
   the check. Everything the state does not hold shows as "to add"; that is expected.

Both sides get the same treatment as ``make tf-check``'s apply (``moto_gaps``: left-out resources and
read-back gaps), so only a difference between the two versions of the code shows up.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.plan_comment import count_actions
from tools.release_snapshot import place_assets
from tools.stateful import ALLOW_LIST, ROOT, STATEFUL_TYPES, Allowed, Destructive, destructive_changes
from tools.terraform_check.check import PLAN_ARGS, CheckFailed, StackCheck, json_messages
from tools.terraform_check.moto_gaps import ignore_changes, leave_out
from tools.terraform_check.workdir import for_mirror, moto_override, read_stack, write_override, write_stack

UPGRADE_PLAN = "upgrade.tfplan"


class UpgradeBroken(AssertionError):
    """The current code would replace or delete a stateful resource of the last release."""


@dataclass(frozen=True)
class UpgradePlan:
    """The current code's plan against the release's state, for one stack."""

    stack: str
    counts: dict[str, int]
    destructive: list[Destructive] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict, repr=False)  # ``terraform show -json`` (moto's)

    def summary(self) -> str:
        c = self.counts
        lost = "; ".join(d.describe() for d in self.destructive) or "none"
        return (
            f"{self.stack}: {c['add']} to add, {c['change']} to change, {c['destroy']} to destroy "
            f"({c['replace']} replaced); stateful resources replaced or deleted: {lost}"
        )

    def unallowed(self, environment: str, allowed: Sequence[Allowed]) -> list[Destructive]:
        """The destructive changes no allow-list entry of ``environment`` accepts."""
        accepted = {(a.stack, a.address) for a in allowed if a.environment == environment}
        return [d for d in self.destructive if (self.stack, d.address) not in accepted]

    def check(self, environment: str, allowed: Sequence[Allowed] = ()) -> None:
        """Raise ``UpgradeBroken`` naming each stateful resource lost without an allow-list entry."""
        lost = self.unallowed(environment, allowed)
        if lost:
            raise UpgradeBroken(
                f"the current code would lose data of the last release ({environment}): "
                + "; ".join(d.describe() for d in lost)
                + ". Keep the construct id or add a `moved` block; an intended loss needs an entry in "
                f"{ALLOW_LIST.relative_to(ROOT)}.\n{self.summary()}"
            )


def stateful_addresses(doc: dict[str, Any]) -> list[str]:
    resources = doc.get("resource", {})
    return sorted(f"{kind}.{name}" for kind in STATEFUL_TYPES for name in resources.get(kind, {}))


class UpgradeCheck(StackCheck):
    """One stack: the release applied, then the current code planned, in one scratch directory."""

    def apply_release(self, endpoint: str) -> list[str]:
        """Prepare and init the release's copy, then apply its stateful resources; returns them."""
        self.prepare()
        place_assets(self.doc, self.workdir)
        self.init()
        reduced, self.report.left_out = leave_out(self.doc)
        write_stack(self.workdir, reduced)
        write_override(self.workdir, moto_override(reduced, endpoint, ignore_changes(reduced)))
        targets = stateful_addresses(reduced)
        result = self._run("apply", "apply", "-auto-approve", *PLAN_ARGS, *(f"-target={t}" for t in targets))
        self.report.created = sorted(
            m["hook"]["resource"]["addr"]
            for m in json_messages(result.stdout)
            if m.get("type") == "apply_complete" and m["hook"].get("action") == "create"
        )
        missing = sorted(set(targets) - set(self.report.created))
        if missing:
            raise CheckFailed(f"{self.report.name}: the release's apply did not create {missing}")
        return targets

    def plan_current(
        self,
        stack_dir: Path,
        endpoint: str,
        change: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> UpgradePlan:
        """Plan ``stack_dir`` (a synthesized stack of the current code; ``change`` may rewrite it first)
        against the release's state."""
        doc = for_mirror(read_stack(stack_dir), self.toolchain.provider_version)
        if change is not None:
            doc = change(doc)
        assets = stack_dir / "assets"
        if assets.is_dir():
            shutil.copytree(assets, self.workdir / "assets", dirs_exist_ok=True)
        for configuration in stack_dir.glob("*.tf"):  # versions.tf, removed.tf: read with the JSON
            shutil.copyfile(configuration, self.workdir / configuration.name)
        reduced, _ = leave_out(doc)
        write_stack(self.workdir, reduced)
        write_override(self.workdir, moto_override(reduced, endpoint, ignore_changes(reduced)))
        self._run("plan", "plan", "-input=false", "-lock=false", "-no-color", f"-out={UPGRADE_PLAN}")
        shown = self._run("show", "show", "-json", UPGRADE_PLAN)
        plan = json.loads(shown.stdout)
        return UpgradePlan(self.report.name, count_actions(plan), destructive_changes(plan), plan)
