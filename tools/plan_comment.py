"""Plans every synthesized stack, renders the pull-request comment that summarizes the plans of one
environment, and guards data: a planned replacement or deletion of a stateful resource blocks.

    python tools/plan_comment.py plan   --outdir cdktf.out --results plan-results
    python tools/plan_comment.py render --results plan-results --out comment.json --environment prod \
        [--sarif plan-guard.sarif] [--sha S --run-url U]
    python tools/plan_comment.py guard  --results plan-results --environment prod

``plan`` runs ``terraform init`` + ``terraform plan -lock=false`` in each stack directory that keeps its
state in a remote backend (a stack with local state, the bootstrap stack, is reported as skipped: planning
it without its state file would show every resource as new). It reads the counts from
``terraform show -json`` in memory and writes only ``result.json`` and the plan text (``terraform show``
masks sensitive values; the JSON plan does not, so it is never written). It exits 1 when a stack failed.

``render`` writes ``{"body": ...}`` for ``gh api --input``: a hidden marker (how the workflow finds the
comment to update), a per-stack table (to add / change / destroy) and each plan in a collapsed
``<details>`` block, truncated so the body stays under GitHub's 65,536-character limit.

The guard: every planned replacement or deletion of a resource of a stateful type (``tools/stateful.py``,
the one list) is listed in the comment and in a SARIF report (for code scanning) as blocking, unless the
allow-list (``ALLOW_LIST``, ``.github/allowed-destroys.toml``) has an entry for that environment, stack
and address with a reason. ``guard`` exits 1 while any is blocking, which fails the pull-request workflow.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tools.stateful import ALLOW_LIST, ROOT, STATEFUL_TYPES, Allowed, destructive_changes, load_allow_list

MARKER = "<!-- cdktf-plan-comment"  # + the environment: one comment per environment
MAX_COMMENT_CHARS = 65_536
PLAN_FILE = "tfplan"
RESULT_FILE = "result.json"
PLAN_TEXT_FILE = "plan.txt"
ERROR_TAIL_CHARS = 4_000
TRUNCATED = "\n… truncated: the full plan is in the workflow run log.\n"


@dataclass(frozen=True)
class StackResult:
    """The outcome of planning one stack."""

    stack: str
    status: str  # "changes", "no-changes", "skipped" or "error"
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    detail: str = ""  # why it was skipped, or the failing step's output tail
    # Planned replacements and deletions of stateful resources: {"address", "resource_type", "action"}.
    destructive: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> StackResult:
        return cls(**json.loads(path.read_text()))


def marker(environment: str) -> str:
    """The hidden first line of an environment's comment (how the workflow finds it to update)."""
    return f"{MARKER} {environment} -->"


# --- the guard --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A planned replacement or deletion of a stateful resource, and whether it is allowed."""

    stack: str
    address: str
    resource_type: str
    action: str
    allowed_by: Allowed | None

    @property
    def blocking(self) -> bool:
        return self.allowed_by is None

    def describe(self) -> str:
        loses = STATEFUL_TYPES.get(self.resource_type, "its data")
        return f"`{self.stack}`: `{self.address}` would be {self.action}d (loses {loses})"


def findings(
    results: Sequence[tuple[StackResult, str]], environment: str, allowed: Sequence[Allowed]
) -> list[Finding]:
    """Every destructive change of ``results`` (plans of ``environment``), with its allow entry if any."""
    found = []
    for result, _ in results:
        for change in result.destructive:
            entry = next(
                (
                    a
                    for a in allowed
                    if (a.environment, a.stack, a.address) == (environment, result.stack, change["address"])
                ),
                None,
            )
            found.append(
                Finding(result.stack, change["address"], change["resource_type"], change["action"], entry)
            )
    return found


def count_actions(plan: dict[str, Any]) -> dict[str, int]:
    """to add / to change / to destroy as Terraform counts them (a replacement is one add and one destroy)."""
    counts = {"add": 0, "change": 0, "destroy": 0, "replace": 0}
    for change in plan.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        if "create" in actions:
            counts["add"] += 1
        if "delete" in actions:
            counts["destroy"] += 1
        if "update" in actions:
            counts["change"] += 1
        if "create" in actions and "delete" in actions:
            counts["replace"] += 1
    return counts


def stack_dirs(outdir: Path) -> list[tuple[str, Path]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return sorted((name, outdir / s["workingDirectory"]) for name, s in manifest["stacks"].items())


def backend_of(stack_dir: Path) -> str:
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    backend = doc.get("terraform", {}).get("backend", {})
    return next(iter(backend), "local")


def _terraform(stack_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    return subprocess.run(  # noqa: S603 - fixed terraform arguments
        ["terraform", f"-chdir={stack_dir}", *args],  # noqa: S607 - terraform comes from PATH by design
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def _tail(text: str) -> str:
    return text if len(text) <= ERROR_TAIL_CHARS else "…" + text[-ERROR_TAIL_CHARS:]


def plan_stack(name: str, stack_dir: Path) -> tuple[StackResult, str]:
    """Plan one stack: (result, plan text)."""
    backend = backend_of(stack_dir)
    if backend == "local":
        detail = (
            f"local state (the bootstrap stack): plan it where its state file lives, `make diff STACK={name}`"
        )
        return StackResult(name, "skipped", detail=detail), ""
    init = _terraform(stack_dir, "init", "-input=false", "-no-color")
    if init.returncode != 0:
        hint = (
            "terraform init failed. Has the state backend been bootstrapped (`make bootstrap`), and may "
            "the plan role read the state bucket and its KMS key?\n\n"
        )
        return StackResult(name, "error", detail=hint + _tail(init.stdout + init.stderr)), ""
    plan = _terraform(
        stack_dir,
        "plan",
        "-input=false",
        "-no-color",
        "-lock=false",
        f"-out={PLAN_FILE}",
        "-detailed-exitcode",
    )
    if plan.returncode not in (0, 2):
        return StackResult(name, "error", detail=_tail(plan.stdout + plan.stderr)), ""
    shown = _terraform(stack_dir, "show", "-no-color", PLAN_FILE)
    as_json = _terraform(stack_dir, "show", "-json", PLAN_FILE)
    text = shown.stdout if shown.returncode == 0 else plan.stdout
    try:
        planned = json.loads(as_json.stdout)
    except ValueError:
        # Without the JSON plan the guard cannot tell what is replaced: that is an error, not a pass.
        detail = "terraform show -json failed: the plan cannot be checked for data loss\n\n"
        return StackResult(name, "error", detail=detail + _tail(as_json.stdout + as_json.stderr)), text
    return planned_result(name, planned, changed=plan.returncode == 2), text


def planned_result(name: str, planned: dict[str, Any], *, changed: bool) -> StackResult:
    """The result of a stack from its ``terraform show -json`` plan: counts and destructive changes."""
    counts = count_actions(planned)
    destructive = [
        {"address": d.address, "resource_type": d.resource_type, "action": d.action}
        for d in destructive_changes(planned)
    ]
    return StackResult(
        name,
        "changes" if changed else "no-changes",
        add=counts["add"],
        change=counts["change"],
        destroy=counts["destroy"],
        replace=counts["replace"],
        destructive=destructive,
    )


def plan_all(outdir: Path, results: Path) -> int:
    failed = 0
    for name, stack_dir in stack_dirs(outdir):
        result, text = plan_stack(name, stack_dir)
        target = results / name
        target.mkdir(parents=True, exist_ok=True)
        (target / RESULT_FILE).write_text(json.dumps(asdict(result), indent=2))
        (target / PLAN_TEXT_FILE).write_text(text)
        print(f"{name}: {result.status} (+{result.add} ~{result.change} -{result.destroy})")
        failed += result.status == "error"
    return 1 if failed else 0


def load_results(results: Path) -> list[tuple[StackResult, str]]:
    loaded = []
    for path in sorted(results.glob(f"*/{RESULT_FILE}")):
        text_path = path.parent / PLAN_TEXT_FILE
        loaded.append((StackResult.load(path), text_path.read_text() if text_path.exists() else ""))
    return loaded


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so the plan cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _status_cell(result: StackResult, blocking: int) -> str:
    if result.status == "skipped":
        return f"skipped: {result.detail}"
    if result.status == "error":
        return ":x: plan failed"
    if result.status == "no-changes":
        return "no changes"
    warning = " :warning: destroys resources" if result.destroy else ""
    replaced = f" ({result.replace} replaced)" if result.replace else ""
    blocked = f" :no_entry: {blocking} stateful replaced or deleted (blocking)" if blocking else ""
    return f"changes{replaced}{warning}{blocked}"


def _guard_lines(found: Sequence[Finding]) -> list[str]:
    """The data guard's section of the comment: every finding, blocking or allowed (with the reason)."""
    if not found:
        return []
    blocking = [f for f in found if f.blocking]
    title = (
        f"#### :no_entry: Blocking: {len(blocking)} planned replacement or deletion of stateful resources"
        if blocking
        else "#### Allowed replacements or deletions of stateful resources"
    )
    lines = [title, ""]
    for f in found:
        if f.blocking:
            lines.append(f"- :no_entry: **blocking**: {f.describe()}")
        else:
            assert f.allowed_by is not None
            lines.append(f"- :white_check_mark: allowed: {f.describe()}. Reason: {f.allowed_by.reason}")
    if blocking:
        lines += [
            "",
            f"This pull request cannot merge while it would lose data. Keep the construct id (or add a "
            f"`moved` block), or, if the loss is intended, add an `[[allow]]` entry with the environment, "
            f'stack, address and a reason to `{ALLOW_LIST.relative_to(ROOT)}` (docs/ci.md, "Pull-request '
            f'review").',
        ]
    return [*lines, ""]


def _summary(result: StackResult) -> str:
    if result.status == "error":
        return f"{result.stack}: error"
    return f"{result.stack}: {result.add} to add, {result.change} to change, {result.destroy} to destroy"


def _block(summary: str, body: str, budget: int) -> str:
    """A collapsed block whose total length stays within ``budget`` (truncating ``body``)."""

    def render(text: str) -> str:
        fence = _fence(text)
        return f"<details><summary>{summary}</summary>\n\n{fence}text\n{text}\n{fence}\n</details>\n\n"

    full = render(body)
    if len(full) <= budget:
        return full
    keep = max(0, budget - len(render(TRUNCATED)))
    while keep > 0:
        candidate = render(body[:keep] + TRUNCATED)
        if len(candidate) <= budget:
            return candidate
        keep -= len(candidate) - budget
    return render(TRUNCATED) if len(render(TRUNCATED)) <= budget else ""


def render_comment(
    results: Sequence[tuple[StackResult, str]],
    environment: str,
    *,
    found: Sequence[Finding] = (),
    sha: str = "",
    run_url: str = "",
    limit: int = MAX_COMMENT_CHARS,
) -> str:
    lines = [marker(environment), f"### Terraform plan: environment `{environment}`", ""]
    if not results:
        lines.append("No stack was planned.")
    else:
        lines += ["| stack | result | to add | to change | to destroy |", "|---|---|--:|--:|--:|"]
        for result, _ in results:
            numbers = (
                f"{result.add} | {result.change} | {result.destroy}"
                if result.status in ("changes", "no-changes")
                else " |  | "
            )
            blocking = sum(f.blocking for f in found if f.stack == result.stack)
            lines.append(f"| `{result.stack}` | {_status_cell(result, blocking)} | {numbers} |")
    lines += ["", *_guard_lines(found)]
    footer_parts = []
    if sha:
        footer_parts.append(f"commit `{sha[:12]}`")
    if run_url:
        footer_parts.append(f"[workflow run]({run_url})")
    footer_parts.append("plans run with `-lock=false` and read-only credentials; apply happens on merge")
    footer = " · ".join(footer_parts) + "\n"
    head = "\n".join(lines) + "\n\n"

    blocks = [
        (_summary(result), result.detail if result.status == "error" else text)
        for result, text in results
        if result.status != "skipped"
    ]
    remaining = limit - len(head) - len(footer)
    rendered = []
    for index, (summary, body) in enumerate(blocks):
        share = remaining // (len(blocks) - index)  # unused budget flows to the following blocks
        block = _block(summary, body, share)
        rendered.append(block)
        remaining -= len(block)
    return head + "".join(rendered) + footer


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = {
    "replace": ("stateful-resource-replaced", "A planned replacement destroys a stateful resource"),
    "delete": ("stateful-resource-deleted", "A planned deletion destroys a stateful resource"),
}


def sarif(found: Sequence[Finding], environment: str) -> dict[str, Any]:
    """A SARIF 2.1.0 report of the findings: ``error`` when blocking, ``note`` when allowed. Each points at
    the allow-list, where an intended loss is recorded."""
    location = {
        "physicalLocation": {
            "artifactLocation": {"uri": str(ALLOW_LIST.relative_to(ROOT))},
            "region": {"startLine": 1},
        }
    }
    results = [
        {
            "ruleId": RULES[f.action][0],
            "level": "error" if f.blocking else "note",
            "message": {"text": f"environment {environment}: {f.describe().replace('`', '')}: {_verdict(f)}"},
            "locations": [location],
            "partialFingerprints": {"planGuard/v1": f"{environment}/{f.stack}/{f.address}/{f.action}"},
        }
        for f in found
    ]
    rules = [
        {"id": rule_id, "shortDescription": {"text": text}, "defaultConfiguration": {"level": "error"}}
        for rule_id, text in RULES.values()
    ]
    driver = {"name": "plan-guard", "informationUri": "https://github.com/", "rules": rules}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _verdict(finding: Finding) -> str:
    if finding.allowed_by is None:
        return "blocking (record an intended loss in the allow-list, with a reason)"
    return f"allowed ({finding.allowed_by.reason})"


def guard(found: Sequence[Finding], environment: str) -> tuple[int, str]:
    """(exit code, report): 1 while a planned replacement or deletion of a stateful resource is unallowed."""
    blocking = [f for f in found if f.blocking]
    allowed = [f for f in found if not f.blocking]
    lines = [f"allowed: {f.describe()} ({f.allowed_by.reason})" for f in allowed if f.allowed_by]
    if not blocking:
        return 0, "\n".join(
            [*lines, f"plan guard ({environment}): no stateful resource is lost without an allow entry"]
        )
    lines += [f"BLOCKING: {f.describe()}" for f in blocking]
    lines.append(
        f"plan guard ({environment}): {len(blocking)} stateful resource(s) would be replaced or deleted. "
        f"Keep the construct id (or add a moved block), or record the intent in "
        f"{ALLOW_LIST.relative_to(ROOT)} with a reason."
    )
    return 1, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="plan every stack with a remote backend")
    plan.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    plan.add_argument("--results", type=Path, required=True)
    render = commands.add_parser("render", help="write the comment body as JSON for `gh api --input`")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--sarif", type=Path, help="also write the guard's findings as SARIF")
    render.add_argument("--sha", default="")
    render.add_argument("--run-url", default="")
    check = commands.add_parser("guard", help="exit 1 while a stateful resource would be lost unallowed")
    for command in (render, check):
        command.add_argument("--results", type=Path, required=True)
        command.add_argument("--environment", required=True, help="the environment the plans are of")
        command.add_argument("--allow-list", type=Path, default=ALLOW_LIST)
    args = parser.parse_args(argv)
    if args.command == "plan":
        return plan_all(args.outdir, args.results)
    results = load_results(args.results)
    found = findings(results, args.environment, load_allow_list(args.allow_list))
    if args.command == "guard":
        code, report = guard(found, args.environment)
        print(report, file=sys.stdout if code == 0 else sys.stderr)
        return code
    body = render_comment(results, args.environment, found=found, sha=args.sha, run_url=args.run_url)
    args.out.write_text(json.dumps({"body": body}))
    print(f"comment: {len(body)} characters -> {args.out}")
    if args.sarif:
        args.sarif.write_text(json.dumps(sarif(found, args.environment), indent=2))
        print(f"plan guard SARIF: {len(found)} finding(s) -> {args.sarif}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
