"""The compliance gate: checkov over every synthesized stack, failing on anything but a clean result.

checkov is run with the project's ``.checkov.yaml`` once per stack directory (several ``-d`` in one
run print one report per directory, each including the previous ones), twice per stack, in parallel:

* with the configured baseline: the verdict. Failed checks left after the baseline fail the gate;
  checks the baseline matched are reported as suppressed (``output-baseline-as-skipped``);
* with ``--baseline ""``: checkov drops every *passed* check from a report that used a baseline, so
  the passed count comes from this run. Its failures must equal the first run's failed plus
  suppressed, otherwise the gate fails.

The gate also fails when checkov reports a parsing error or ran no check (it exits 0 then), when a
stack directory exists that the configuration does not list (or the other way round), when a baseline
suppression has no justification or names a stack that does not exist, and when a suppression
matches no failure (a stale exception).

Usage: ``python -m compliance.gate [--outdir cdktf.out] [--reports reports]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".checkov.yaml"
CHECKOV = ROOT / "tools" / "checkov" / ".venv" / "bin" / "checkov"
STACK_FILE = "cdk.tf.json"

Finding = tuple[str, str]  # (resource as checkov names it, check id)


@dataclass
class StackResult:
    """What checkov found in one stack directory."""

    stack: str
    passed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0
    suppressed_at: dict[tuple[str, int], str] = field(default_factory=dict)  # (check, line) -> resource
    parsing_errors: int = 0
    unsuppressed_failures: set[Finding] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def checks(self) -> int:
        return self.passed + len(self.failed) + self.suppressed


@dataclass(frozen=True)
class Suppression:
    stack: str
    resource: str
    check_id: str
    justification: str


def load_config(config: Path = CONFIG) -> dict[str, Any]:
    return yaml.safe_load(config.read_text()) or {}


def configured_stacks(config: dict[str, Any]) -> list[str]:
    """Stack names, from the ``directory`` entries ``<outdir>/stacks/<name>`` of the configuration."""
    return [Path(d).name for d in config.get("directory", [])]


def load_baseline(path: Path) -> list[Suppression]:
    """Every (stack, resource, check) the baseline suppresses, with its justification."""
    doc = json.loads(path.read_text())
    return [
        Suppression(
            stack=entry.get("stack", ""),
            resource=finding["resource"],
            check_id=check_id,
            justification=(finding.get("justification") or "").strip(),
        )
        for entry in doc.get("failed_checks", [])
        for finding in entry.get("findings", [])
        for check_id in finding.get("check_ids", [])
    ]


def _reports(raw: str) -> list[dict[str, Any]]:
    """checkov's JSON output: one report, a list of reports, or a bare summary when nothing was scanned."""
    doc = json.loads(raw)
    reports = doc if isinstance(doc, list) else [doc]
    return [r if "summary" in r else {"summary": r, "results": {}} for r in reports]


def _checkov(args: list[str], checkov: Path) -> str:
    result = subprocess.run(  # noqa: S603 - our own pinned checkov, fixed arguments
        [str(checkov), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"checkov {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result.stdout


def scan_stack(
    stack: str,
    directory: Path,
    *,
    config: Path = CONFIG,
    baseline: Path | None = None,
    checkov: Path = CHECKOV,
    report_dir: Path | None = None,
) -> StackResult:
    """Run checkov twice on ``directory`` (see the module docstring) and combine the two reports."""
    common = ["--config-file", str(config), "--directory", str(directory)]
    if baseline is not None:
        common += ["--baseline", str(baseline)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(report_dir or tmp)
        out.mkdir(parents=True, exist_ok=True)
        verdict_args = [
            *common,
            "-o",
            "json",
            "-o",
            "sarif",
            "-o",
            "junitxml",
            "--output-file-path",
            str(out),
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            verdict_run = pool.submit(_checkov, verdict_args, checkov)
            counting_run = pool.submit(
                _checkov, [*common, "--baseline", "", "--quiet", "-o", "json"], checkov
            )
            verdict_run.result()
            counting = _reports(counting_run.result())
        verdict = _reports((out / "results_json.json").read_text())

    result = StackResult(stack=stack)
    for report in verdict:
        summary = report["summary"]
        result.failed += report.get("results", {}).get("failed_checks", [])
        result.suppressed += summary.get("skipped", 0)
        for check in report.get("results", {}).get("skipped_checks", []):
            result.suppressed_at[(check["check_id"], check["file_line_range"][0])] = check["resource"]
        result.parsing_errors += summary.get("parsing_errors", 0)
    all_failed = 0
    for report in counting:
        summary = report["summary"]
        result.passed += summary.get("passed", 0)
        all_failed += summary.get("failed", 0)
        result.parsing_errors = max(result.parsing_errors, summary.get("parsing_errors", 0))
        for check in report.get("results", {}).get("failed_checks", []):
            result.unsuppressed_failures.add((check["resource"], check["check_id"]))

    if result.parsing_errors:
        result.problems.append(f"{stack}: checkov could not parse {result.parsing_errors} file(s)")
    if result.checks == 0:
        result.problems.append(f"{stack}: checkov ran no checks")
    for check in result.failed:
        result.problems.append(
            f"{stack}: FAILED {check['check_id']} on {check['resource']} ({check['check_name']})"
        )
    if all_failed != len(result.failed) + result.suppressed:
        result.problems.append(
            f"{stack}: {all_failed} failures without the baseline, but {len(result.failed)} failed"
            f" + {result.suppressed} suppressed with it"
        )
    return result


def check_baseline(suppressions: list[Suppression], results: list[StackResult]) -> list[str]:
    """Every suppression is justified, names a scanned stack, and still matches a real failure."""
    by_stack = {r.stack: r for r in results}
    problems = []
    for s in suppressions:
        where = f"baseline {s.stack or '<no stack>'}: {s.check_id} on {s.resource}"
        if not s.justification:
            problems.append(f"{where} has no justification")
        if s.stack not in by_stack:
            problems.append(f"{where} names no scanned stack")
        elif (s.resource, s.check_id) not in by_stack[s.stack].unsuppressed_failures:
            problems.append(f"{where} suppresses nothing (stale): remove it")
    return problems


def merge_reports(
    results: list[StackResult], suppressions: list[Suppression], per_stack: Path, reports: Path
) -> None:
    """One SARIF (``checkov.sarif``, uploaded by CI) and one JUnit file for all stacks.

    File locations become ``cdktf.out/stacks/<stack>/cdk.tf.json`` and each suppressed result
    carries its justification from the baseline.
    """
    reasons = {(s.stack, s.resource, s.check_id): s.justification for s in suppressions}
    sarif: dict[str, Any] | None = None
    suites = ET.Element("testsuites")
    for r in results:
        stack_dir = per_stack / r.stack
        doc = json.loads((stack_dir / "results_sarif.sarif").read_text())
        for run in doc.get("runs", []):
            for res in run.get("results", []):
                for loc in res.get("locations", []):
                    physical = loc.get("physicalLocation", {})
                    art = physical.get("artifactLocation", {})
                    if "uri" in art:
                        art["uri"] = f"cdktf.out/stacks/{r.stack}/{Path(art['uri']).name}"
                    line = physical.get("region", {}).get("startLine")
                    resource = r.suppressed_at.get((res.get("ruleId"), line))
                    if resource and res.get("suppressions"):
                        reason = reasons.get((r.stack, resource, res["ruleId"]), "see the baseline file")
                        res["suppressions"] = [{"kind": "external", "justification": reason}]
        if sarif is None:
            sarif = doc
        else:
            sarif["runs"].extend(doc.get("runs", []))
        junit = ET.parse(stack_dir / "results_junitxml.xml").getroot()  # noqa: S314 - checkov wrote it just now
        for suite in junit.iter("testsuite"):
            suite.set("name", f"{r.stack}: {suite.get('name', '')}")
            suites.append(suite)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "checkov.sarif").write_text(json.dumps(sarif or {"version": "2.1.0", "runs": []}, indent=2))
    ET.ElementTree(suites).write(reports / "checkov-junit.xml", encoding="unicode", xml_declaration=True)


def run_gate(
    outdir: Path,
    *,
    config: Path = CONFIG,
    baseline: Path | None = None,
    checkov: Path = CHECKOV,
    reports: Path | None = None,
) -> tuple[list[StackResult], list[str]]:
    """Scan every stack under ``outdir/stacks``; return the per-stack results and every problem."""
    settings = load_config(config)
    expected = configured_stacks(settings)
    present = sorted(p.parent.name for p in (outdir / "stacks").glob(f"*/{STACK_FILE}"))
    problems = [
        f"stack {s} is synthesized but not listed in {config.name}" for s in present if s not in expected
    ]
    problems += [
        f"stack {s} is listed in {config.name} but was not synthesized" for s in expected if s not in present
    ]
    # checkov resolves the configured baseline against its working directory, the repository root.
    baseline_path = baseline or (ROOT / settings["baseline"] if settings.get("baseline") else None)
    if baseline_path is None:
        problems.append(f"{config.name} names no baseline file")
    with tempfile.TemporaryDirectory() as tmp:
        per_stack = Path(tmp)
        with ThreadPoolExecutor(max_workers=max(1, len(present))) as pool:
            futures = [
                pool.submit(
                    scan_stack,
                    stack,
                    outdir / "stacks" / stack,
                    config=config,
                    baseline=baseline,
                    checkov=checkov,
                    report_dir=per_stack / stack,
                )
                for stack in present
            ]
            results = [f.result() for f in futures]
        suppressions = load_baseline(baseline_path) if baseline_path is not None else []
        if reports is not None and results:
            merge_reports(results, suppressions, per_stack, reports)
    for r in results:
        problems += r.problems
    if not results:
        problems.append(f"no synthesized stack under {outdir / 'stacks'}")
    problems += check_baseline(suppressions, results)
    return results, problems


def summary_table(results: list[StackResult]) -> str:
    rows = [(r.stack, r.passed, len(r.failed), r.suppressed, r.parsing_errors) for r in results]
    rows.append(
        (
            "total",
            sum(r.passed for r in results),
            sum(len(r.failed) for r in results),
            sum(r.suppressed for r in results),
            sum(r.parsing_errors for r in results),
        )
    )
    width = max(len(row[0]) for row in rows)
    lines = [f"{'stack':<{width}}  passed  failed  suppressed  parsing errors"]
    lines += [f"{s:<{width}}  {p:>6}  {f:>6}  {sup:>10}  {e:>14}" for s, p, f, sup, e in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out", help="cdktf output directory")
    parser.add_argument(
        "--reports", type=Path, default=None, help="write checkov.sarif and checkov-junit.xml here"
    )
    args = parser.parse_args(argv)
    results, problems = run_gate(args.outdir, reports=args.reports)
    print(summary_table(results))
    for problem in problems:
        print(f"GATE: {problem}", file=sys.stderr)
    print("compliance gate: " + ("FAILED" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
