"""The checkov gate passes on the synthesized stacks, and fails on every way a scan can go wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from compliance import gate

MAX_SUPPRESSIONS = 8
# A queue without encryption fails CKV_AWS_27 (and passes two other checks).
PLAIN_QUEUE = {"name": "q"}


# ---------- the project's own stacks ----------


@pytest.fixture(scope="module")
def project_run(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    reports = tmp_path_factory.mktemp("reports")
    results, problems = gate.run_gate(synth_dir, reports=reports)
    return {r.stack: r for r in results}, problems, reports


def test_synthesized_stacks_pass_the_gate_with_zero_failures(project_run):
    results, problems, _ = project_run
    assert problems == []
    assert set(results) == {STATE_BACKEND_STACK, TRANSACTION_STACK}
    for result in results.values():
        assert (len(result.failed), result.parsing_errors) == (0, 0)
    assert sum(r.passed for r in results.values()) > 150


def test_every_suppression_is_justified_and_used(project_run):
    results, _, _ = project_run
    suppressions = gate.load_baseline(gate.ROOT / gate.load_config()["baseline"])
    assert len(suppressions) <= MAX_SUPPRESSIONS
    assert all(len(s.justification) >= 80 for s in suppressions)
    assert sum(r.suppressed for r in results.values()) == len(suppressions)


def test_reports_are_one_sarif_and_one_junit_for_ci(project_run):
    _, _, reports = project_run
    sarif = json.loads((reports / "checkov.sarif").read_text())
    assert len(sarif["runs"]) == 2
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for run in sarif["runs"]
        for result in run["results"]
        for loc in result["locations"]
    }
    assert uris <= {f"cdktf.out/stacks/{s}/cdk.tf.json" for s in (STATE_BACKEND_STACK, TRANSACTION_STACK)}
    for run in sarif["runs"]:
        for result in run["results"]:  # only suppressed findings remain, each with its reason
            (suppression,) = result["suppressions"]
            assert suppression["kind"] == "external" and len(suppression["justification"]) >= 80
    assert (reports / "checkov-junit.xml").read_text().count("<testsuite ") == 2


def test_config_is_strict():
    config = gate.load_config()
    assert config["framework"] == ["terraform_json"]
    assert config["skip-download"] is True and config["compact"] is True
    assert "skip-check" not in config and "soft-fail" not in config
    assert gate.configured_stacks(config) == [STATE_BACKEND_STACK, TRANSACTION_STACK]
    assert (gate.ROOT / config["baseline"]).is_file()


# ---------- the gate's own logic, on tiny stacks ----------


def _stacks(tmp_path: Path, stacks: dict[str, str]) -> Path:
    for name, text in stacks.items():
        (tmp_path / "out" / "stacks" / name).mkdir(parents=True)
        (tmp_path / "out" / "stacks" / name / "cdk.tf.json").write_text(text)
    return tmp_path / "out"


def _config(tmp_path: Path, stacks: list[str], findings: dict[str, list[dict]]) -> tuple[Path, Path]:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "failed_checks": [
                    {"file": "/cdk.tf.json", "stack": stack, "findings": items}
                    for stack, items in findings.items()
                ]
            }
        )
    )
    project = gate.load_config()
    config = tmp_path / "checkov.yaml"
    config.write_text(
        json.dumps(project | {"directory": [f"out/stacks/{s}" for s in stacks], "baseline": str(baseline)})
    )
    return config, baseline


def _queues(**queues: dict) -> str:
    return json.dumps({"resource": {"aws_sqs_queue": queues}})


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory):
    """One run over stacks that each go wrong in one way, with a baseline that goes wrong too."""
    tmp = tmp_path_factory.mktemp("broken")
    outdir = _stacks(
        tmp,
        {
            "unparsable": '{"resource": {',
            "empty": json.dumps({"output": {"x": {"value": "1"}}}),
            "insecure": _queues(plain=PLAIN_QUEUE, accepted=PLAIN_QUEUE, unexplained=PLAIN_QUEUE),
            "unlisted": json.dumps({"output": {"y": {"value": "2"}}}),
        },
    )
    reason = "a justification long enough to explain why this finding has no control here"
    config, baseline = _config(
        tmp,
        ["unparsable", "empty", "insecure", "missing"],
        {
            "insecure": [
                {"resource": "resource.accepted", "check_ids": ["CKV_AWS_27"], "justification": reason},
                {"resource": "resource.unexplained", "check_ids": ["CKV_AWS_27"]},
                {"resource": "resource.ghost", "check_ids": ["CKV_AWS_27"], "justification": reason},
            ],
            "elsewhere": [{"resource": "resource.x", "check_ids": ["CKV_AWS_27"], "justification": reason}],
        },
    )
    results, problems = gate.run_gate(outdir, config=config, baseline=baseline)
    return {r.stack: r for r in results}, "\n".join(problems)


def test_a_parse_error_fails_even_though_checkov_exits_zero(broken_run):
    results, problems = broken_run
    assert results["unparsable"].parsing_errors == 1
    assert "unparsable: checkov could not parse 1 file(s)" in problems


def test_a_stack_without_checks_fails(broken_run):
    results, problems = broken_run
    assert results["empty"].checks == 0
    assert "empty: checkov ran no checks" in problems


def test_a_failed_check_fails_and_a_justified_suppression_does_not(broken_run):
    results, problems = broken_run
    insecure = results["insecure"]
    assert [(c["resource"], c["check_id"]) for c in insecure.failed] == [("resource.plain", "CKV_AWS_27")]
    assert insecure.suppressed == 2
    assert "insecure: FAILED CKV_AWS_27 on resource.plain" in problems
    assert "resource.accepted" not in problems


def test_a_suppression_without_justification_fails(broken_run):
    _, problems = broken_run
    assert "baseline insecure: CKV_AWS_27 on resource.unexplained has no justification" in problems


def test_a_stale_suppression_or_unknown_stack_fails(broken_run):
    _, problems = broken_run
    assert "resource.ghost suppresses nothing (stale)" in problems
    assert "baseline elsewhere: CKV_AWS_27 on resource.x names no scanned stack" in problems


def test_every_synthesized_stack_must_be_configured_and_vice_versa(broken_run):
    _, problems = broken_run
    assert "stack unlisted is synthesized but not listed" in problems
    assert "stack missing is listed" in problems


def test_a_clean_stack_with_justified_suppressions_passes(tmp_path):
    outdir = _stacks(tmp_path, {"ok": _queues(accepted=PLAIN_QUEUE)})
    reason = "a justification long enough to explain why this finding has no control here"
    config, baseline = _config(
        tmp_path,
        ["ok"],
        {"ok": [{"resource": "resource.accepted", "check_ids": ["CKV_AWS_27"], "justification": reason}]},
    )
    results, problems = gate.run_gate(outdir, config=config, baseline=baseline)
    assert problems == []
    (ok,) = results
    assert (ok.passed, len(ok.failed), ok.suppressed, ok.parsing_errors) == (2, 0, 1, 0)
    assert "total" in gate.summary_table(results)


def test_docs_list_every_suppression():
    lines = (gate.ROOT / "docs" / "compliance.md").read_text().splitlines()
    suppressions = gate.load_baseline(gate.ROOT / gate.load_config()["baseline"])
    for s in suppressions:
        assert any(s.resource in line and s.check_id in line and s.stack in line for line in lines), s
