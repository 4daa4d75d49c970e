"""Plans every synthesized stack and renders the one pull-request comment that summarizes the plans.

    python tools/plan_comment.py plan   --outdir cdktf.out --results plan-results
    python tools/plan_comment.py render --results plan-results --out comment.json [--sha S --run-url U]

``plan`` runs ``terraform init`` + ``terraform plan -lock=false`` in each stack directory that keeps its
state in a remote backend (a stack with local state, the bootstrap stack, is reported as skipped: planning
it without its state file would show every resource as new). It reads the counts from
``terraform show -json`` in memory and writes only ``result.json`` and the plan text (``terraform show``
masks sensitive values; the JSON plan does not, so it is never written). It exits 1 when a stack failed.

``render`` writes ``{"body": ...}`` for ``gh api --input``: a hidden marker (how the workflow finds the
comment to update), a per-stack table (to add / change / destroy) and each plan in a collapsed
``<details>`` block, truncated so the body stays under GitHub's 65,536-character limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MARKER = "<!-- cdktf-plan-comment -->"
MAX_COMMENT_CHARS = 65_536
PLAN_FILE = "tfplan"
RESULT_FILE = "result.json"
PLAN_TEXT_FILE = "plan.txt"
ERROR_TAIL_CHARS = 4_000
TRUNCATED = "\n… truncated: the full plan is in the workflow run log.\n"
SUMMARY_LINE = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")


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

    @classmethod
    def load(cls, path: Path) -> StackResult:
        return cls(**json.loads(path.read_text()))


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


def counts_from_text(text: str) -> dict[str, int] | None:
    """Fallback when no JSON plan is available: the plan's ``Plan: X to add, ...`` summary line."""
    match = SUMMARY_LINE.search(text)
    if not match:
        return None
    return {"add": int(match[1]), "change": int(match[2]), "destroy": int(match[3]), "replace": 0}


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
        counts = count_actions(json.loads(as_json.stdout))
    except ValueError:
        counts = counts_from_text(plan.stdout) or {"add": 0, "change": 0, "destroy": 0, "replace": 0}
    status = "changes" if plan.returncode == 2 else "no-changes"
    return (
        StackResult(
            name,
            status,
            add=counts["add"],
            change=counts["change"],
            destroy=counts["destroy"],
            replace=counts["replace"],
        ),
        text,
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


def _status_cell(result: StackResult) -> str:
    if result.status == "skipped":
        return f"skipped: {result.detail}"
    if result.status == "error":
        return ":x: plan failed"
    if result.status == "no-changes":
        return "no changes"
    warning = " :warning: destroys resources" if result.destroy else ""
    replaced = f" ({result.replace} replaced)" if result.replace else ""
    return f"changes{replaced}{warning}"


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
    sha: str = "",
    run_url: str = "",
    limit: int = MAX_COMMENT_CHARS,
) -> str:
    lines = [MARKER, "### Terraform plan", ""]
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
            lines.append(f"| `{result.stack}` | {_status_cell(result)} | {numbers} |")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="plan every stack with a remote backend")
    plan.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    plan.add_argument("--results", type=Path, required=True)
    render = commands.add_parser("render", help="write the comment body as JSON for `gh api --input`")
    render.add_argument("--results", type=Path, required=True)
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--sha", default="")
    render.add_argument("--run-url", default="")
    args = parser.parse_args(argv)
    if args.command == "plan":
        return plan_all(args.outdir, args.results)
    body = render_comment(load_results(args.results), sha=args.sha, run_url=args.run_url)
    args.out.write_text(json.dumps({"body": body}))
    print(f"comment: {len(body)} characters -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
