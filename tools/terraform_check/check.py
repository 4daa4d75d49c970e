"""The steps run on each stack: init, validate, fmt, plan, apply and the no-changes re-plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.terraform_check.moto_gaps import Removed, ignore_changes, leave_out
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Result, Toolchain, run_terraform
from tools.terraform_check.workdir import (
    moto_override,
    pinned_copy,
    scratch_copy,
    write_override,
    write_stack,
)

CLI_CONFIG_FILE = "terraform.rc"
# Upper bounds in seconds. The slowest step, the transaction stack's apply, takes about 2 minutes, most of
# it the provider's own propagation waits (SQS queues and policies, S3 lifecycle, KMS).
TIMEOUTS = {"init": 120, "validate": 120, "fmt": 60, "plan": 300, "apply": 600, "replan": 300, "show": 120}
PLAN_ARGS = ("-input=false", "-lock=false", "-json")


class CheckFailed(AssertionError):
    """A terraform step failed on a stack; the message carries terraform's own diagnostics."""


@dataclass
class StackReport:
    name: str
    seconds: dict[str, float] = field(default_factory=dict)
    planned: int = 0
    created: list[str] = field(default_factory=list)
    left_out: list[Removed] = field(default_factory=list)
    slowest: list[tuple[str, int]] = field(default_factory=list)  # (address, seconds) of the apply


def stack_dirs(outdir: Path) -> list[tuple[str, Path]]:
    """Every stack of a synth output, in the manifest's order (the deploy order: state backend first)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return [(name, outdir / stack["workingDirectory"]) for name, stack in manifest["stacks"].items()]


def json_messages(stdout: str) -> list[dict[str, Any]]:
    """The machine-readable messages of ``terraform plan|apply -json``."""
    messages = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                messages.append(json.loads(line))
            except ValueError:
                continue
    return messages


def diagnostics(result: Result) -> str:
    """Terraform's error diagnostics, readable (falls back to the raw output)."""
    found = []
    for message in json_messages(result.stdout):
        diagnostic = message.get("diagnostic", {})
        if diagnostic.get("severity") == "error":
            where = f" [{diagnostic['address']}]" if diagnostic.get("address") else ""
            found.append(f"{diagnostic.get('summary', '')}{where}: {diagnostic.get('detail', '')}".strip())
    return "\n".join(found) or result.output[-6000:]


class StackCheck:
    """One stack in its scratch directory."""

    def __init__(
        self,
        toolchain: Toolchain,
        *,
        name: str,
        source: Path,
        workdir: Path,
        env: dict[str, str],
        log: Callable[[str], None] = print,
    ):
        self.log = log
        self.toolchain = toolchain
        self.source = source
        self.workdir = workdir
        self.env = env
        self.report = StackReport(name)
        self.doc: dict[str, Any] = {}

    def _run(self, step: str, *args: str, ok: tuple[int, ...] = (0,)) -> Result:
        result = run_terraform(self.toolchain, self.workdir, args, self.env, TIMEOUTS[step])
        (self.workdir / f"{step}.log").write_text(result.output)  # kept for a look after a failure
        self.report.seconds[step] = self.report.seconds.get(step, 0.0) + result.seconds
        self.log(f"{self.report.name}: {step} exit {result.returncode}, {result.seconds:.1f} s")
        if result.returncode not in ok:
            raise CheckFailed(
                f"{self.report.name}: terraform {' '.join(args)} failed (exit {result.returncode}):\n"
                + diagnostics(result)
            )
        return result

    def prepare(self) -> None:
        self.doc = scratch_copy(self.source, self.workdir, self.toolchain.provider_version)

    def prepare_for_validation(self) -> None:
        """A copy for ``init`` + ``validate`` only, of a stack in any form (the HCL export too)."""
        pinned_copy(self.source, self.workdir, self.toolchain.provider_version)

    def init(self) -> None:
        self._run("init", "init", "-backend=false", "-input=false", "-no-color")

    def validate(self) -> dict[str, Any]:
        """``terraform validate -json``: fails on any error; returns the verdict (with its warnings)."""
        result = self._run("validate", "validate", "-json", "-no-color", ok=(0, 1))
        verdict: dict[str, Any] = json.loads(result.stdout)
        if not verdict.get("valid"):
            errors = [f"{d.get('summary')}: {d.get('detail')}" for d in verdict.get("diagnostics", [])]
            raise CheckFailed(f"{self.report.name}: terraform validate:\n" + "\n".join(errors))
        return verdict

    def fmt(self) -> None:
        """``versions.tf`` (the only HCL the app writes) is canonically formatted."""
        self._run("fmt", "fmt", "-check", "-diff", "-no-color")

    def plan(self, endpoint: str) -> None:
        """Plan against moto: every resource of the stack is to be added, nothing else."""
        write_override(self.workdir, moto_override(self.doc, endpoint))
        result = self._run("plan", "plan", *PLAN_ARGS)
        summary = _change_summary(result)
        self.report.planned = summary.get("add", 0)
        expected = len(managed_addresses(self.doc))
        if (summary.get("add"), summary.get("change"), summary.get("remove")) != (expected, 0, 0):
            raise CheckFailed(
                f"{self.report.name}: plan {summary}, expected {expected} to add and nothing else"
            )

    def apply(self, endpoint: str) -> None:
        """Apply everything moto can create; every resource of the reduced stack must be created."""
        reduced, self.report.left_out = leave_out(self.doc)
        write_stack(self.workdir, reduced)
        write_override(self.workdir, moto_override(reduced, endpoint, ignore_changes(reduced)))
        result = self._run("apply", "apply", "-auto-approve", *PLAN_ARGS)
        completed = {
            m["hook"]["resource"]["addr"]: m["hook"].get("elapsed_seconds", 0)
            for m in json_messages(result.stdout)
            if m.get("type") == "apply_complete" and m["hook"].get("action") == "create"
        }
        self.report.created = sorted(completed)
        self.report.slowest = sorted(completed.items(), key=lambda item: -item[1])[:5]
        missing = sorted(set(managed_addresses(reduced)) - set(self.report.created))
        if missing:
            raise CheckFailed(f"{self.report.name}: apply did not create {missing}")

    def replan(self) -> None:
        """A second plan after the apply must find nothing to change."""
        result = self._run(
            "replan", "plan", "-detailed-exitcode", "-out=replan.tfplan", *PLAN_ARGS, ok=(0, 2)
        )
        if result.returncode == 0:
            return
        changes = [
            f"{m['change']['resource']['addr']}: {m['change']['action']}"
            for m in json_messages(result.stdout)
            if m.get("type") in ("planned_change", "resource_drift")
        ]
        shown = run_terraform(
            self.toolchain, self.workdir, ("show", "-no-color", "replan.tfplan"), self.env, TIMEOUTS["show"]
        )
        raise CheckFailed(
            f"{self.report.name}: the plan after apply is not empty (a perpetual diff):\n"
            + "\n".join(changes)
            + "\n\n"
            + shown.stdout[-8000:]
        )


def managed_addresses(doc: dict[str, Any]) -> list[str]:
    return [f"{kind}.{name}" for kind, bodies in doc.get("resource", {}).items() for name in bodies]


def _change_summary(result: Result) -> dict[str, int]:
    for message in json_messages(result.stdout):
        if message.get("type") == "change_summary":
            return message["changes"]
    raise CheckFailed(f"no change summary in the plan output:\n{result.output[-3000:]}")


def open_checks(
    toolchain: Toolchain, outdir: Path, root: Path, log: Callable[[str], None] = print
) -> list[StackCheck]:
    """A ``StackCheck`` per synthesized stack, each in ``root/<stack>``, sharing one CLI config."""
    return open_directory_checks(toolchain, stack_dirs(outdir), root, log)


def open_directory_checks(
    toolchain: Toolchain,
    stacks: list[tuple[str, Path]],
    root: Path,
    log: Callable[[str], None] = print,
) -> list[StackCheck]:
    """A ``StackCheck`` per ``(name, directory)``, each in ``root/<name>``, sharing one CLI config."""
    root.mkdir(parents=True, exist_ok=True)
    cli_config = root / CLI_CONFIG_FILE
    cli_config.write_text(toolchain.cli_config())
    env = toolchain.environment(cli_config)
    return [
        StackCheck(toolchain, name=name, source=source, workdir=root / name, env=env, log=log)
        for name, source in stacks
    ]


def run_checks(
    toolchain: Toolchain, outdir: Path, root: Path, *, apply: bool, log: Callable[[str], None] = print
) -> list[StackReport]:
    """Every step on every stack, in deploy order, against one moto server."""
    checks = open_checks(toolchain, outdir, root, log)
    with MotoServer(root / "moto.log") as moto:
        for check in checks:
            check.prepare()
            check.init()
            check.validate()
            check.fmt()
            check.plan(moto.endpoint)
            if apply:
                check.apply(moto.endpoint)
                check.replan()
    return [check.report for check in checks]
