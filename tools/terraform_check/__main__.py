"""``make tf-check``: real terraform on every synthesized stack, offline (see the package docstring).

Usage: ``python -m tools.terraform_check [--outdir DIR] [--workdir DIR] [--plan-only]``.
Exits 0 when every step passed or the check is skipped (terraform or the provider mirror missing: one line
says which), 1 when a step failed, 2 when ``TF_PROVIDER_MIRROR`` is unusable.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tools.terraform_check.check import CheckFailed, StackReport, run_checks
from tools.terraform_check.moto_gaps import LEFT_OUT, READ_BACK_GAPS
from tools.terraform_check.toolchain import ToolchainError, find_toolchain

STEPS = ("init", "validate", "fmt", "plan", "apply", "replan")


def report_table(reports: list[StackReport]) -> str:
    header = ["stack", *(f"{s} s" for s in STEPS), "planned", "created", "left out"]
    rows = [header, ["---"] * len(header)]
    for r in reports:
        seconds = [f"{r.seconds[s]:.1f}" if s in r.seconds else "-" for s in STEPS]
        applied = [str(len(r.created)), str(len(r.left_out))] if "apply" in r.seconds else ["-", "-"]
        rows.append([r.name, *seconds, str(r.planned), *applied])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.terraform_check", description=__doc__)
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"), help="the synth output")
    parser.add_argument("--workdir", type=Path, default=Path("build/terraform-check"), help="scratch root")
    parser.add_argument("--plan-only", action="store_true", help="stop after validate, fmt and plan")
    args = parser.parse_args(argv)
    try:
        toolchain = find_toolchain()
    except ToolchainError as exc:
        print(f"terraform check: {exc}", file=sys.stderr)
        return 2
    if isinstance(toolchain, str):
        print(f"terraform check skipped: {toolchain}")
        return 0
    print(
        f"terraform {toolchain.terraform}, hashicorp/aws {toolchain.provider_version} from {toolchain.mirror}"
    )
    started = time.monotonic()
    try:
        reports = run_checks(toolchain, args.outdir, args.workdir, apply=not args.plan_only)
    except CheckFailed as exc:
        print(f"terraform check FAILED: {exc}", file=sys.stderr)
        return 1
    print(report_table(reports))
    for report in reports:
        for removed in report.left_out:
            print(f"  {report.name}: left out (moto): {removed.address}")
        if report.slowest:
            slowest = ", ".join(f"{address} {seconds} s" for address, seconds in report.slowest)
            print(f"  {report.name}: slowest creations: {slowest}")
    if not args.plan_only:
        gaps = ", ".join(f"{g.resource_type}.{'/'.join(g.attributes)}" for g in READ_BACK_GAPS)
        print(f"re-plan ignores moto's read-back gaps: {gaps}")
        print(f"{len(LEFT_OUT)} resource kinds left out and why: tools/terraform_check/moto_gaps.py")
    print(f"terraform check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
