"""tools/plan_comment.py: counting, planning with a fake terraform, and the comment it renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.delivery.helpers import fake_executable
from tools import plan_comment
from tools.plan_comment import (
    MARKER,
    MAX_COMMENT_CHARS,
    TRUNCATED,
    Allowed,
    StackResult,
    count_actions,
    findings,
    guard,
    load_allow_list,
    load_results,
    marker,
    plan_all,
    render_comment,
    sarif,
)


def change(*actions: str) -> dict:
    return {"change": {"actions": list(actions)}}


def test_counts_follow_terraform_summary_semantics():
    plan = {
        "resource_changes": [
            change("create"),
            change("create"),
            change("update"),
            change("delete"),
            change("delete", "create"),  # replace: one add and one destroy
            change("create", "delete"),
            change("no-op"),
            change("read"),
        ]
    }
    assert count_actions(plan) == {"add": 4, "change": 1, "destroy": 3, "replace": 2}
    assert count_actions({}) == {"add": 0, "change": 0, "destroy": 0, "replace": 0}


# --- rendering -------------------------------------------------------------------------------------


def test_comment_starts_with_the_marker_and_summarizes_each_stack():
    results = [
        (StackResult("state-backend", "skipped", detail="local state"), ""),
        (
            StackResult("transaction-processing", "changes", add=3, change=1, destroy=2, replace=1),
            "PLAN TEXT",
        ),
    ]
    body = render_comment(results, "dev", sha="0123456789abcdef", run_url="https://example.invalid/run/1")
    assert body.startswith(MARKER + " dev -->\n### Terraform plan: environment `dev`\n")
    assert (
        "| `transaction-processing` | changes (1 replaced) :warning: destroys resources | 3 | 1 | 2 |" in body
    )
    assert "| `state-backend` | skipped: local state |" in body
    assert "<details><summary>transaction-processing: 3 to add, 1 to change, 2 to destroy</summary>" in body
    assert "```text\nPLAN TEXT\n```" in body
    assert body.count("<details>") == 1  # nothing to show for a skipped stack
    assert "commit `0123456789ab`" in body
    assert "[workflow run](https://example.invalid/run/1)" in body


def test_no_changes_and_errors_are_shown():
    results = [
        (StackResult("a", "no-changes"), "No changes."),
        (StackResult("b", "error", detail="Error: bucket does not exist"), ""),
    ]
    body = render_comment(results, "dev")
    assert "| `a` | no changes | 0 | 0 | 0 |" in body
    assert "| `b` | :x: plan failed |" in body
    assert "<summary>b: error</summary>" in body
    assert "Error: bucket does not exist" in body


def test_a_plan_containing_backticks_cannot_close_the_code_block():
    body = render_comment([(StackResult("a", "changes", add=1), 'x = "```"\n````')], "dev")
    assert "`````text\n" in body


@pytest.mark.parametrize("stacks", [1, 2, 5])
def test_huge_plans_are_truncated_to_the_github_limit(stacks: int):
    huge = '  + resource "aws_thing" "x" {}\n' * 20_000  # ~660k characters each
    results = [(StackResult(f"s{i}", "changes", add=20_000), huge) for i in range(stacks)]
    body = render_comment(results, "dev", sha="f" * 40, run_url="https://example.invalid/run/1")
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.count(TRUNCATED.strip()) == stacks
    assert body.count("</details>") == stacks
    assert body.endswith("apply happens on merge\n")


def test_a_small_plan_leaves_room_for_a_large_one():
    small = "Plan: 1 to add, 0 to change, 0 to destroy."
    results = [
        (StackResult("a", "changes", add=1), small),
        (StackResult("b", "changes", add=1), "y" * 100_000),
    ]
    body = render_comment(results, "dev")
    assert small in body
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.count("y") > 60_000  # b got the budget a did not need


# --- planning with a fake terraform ----------------------------------------------------------------

FAKE_TERRAFORM = """
import json, os, sys
args = sys.argv[1:]
stack = os.path.basename(args[0].split("=", 1)[1])
command = args[1]
behaviour = json.loads(os.environ["FAKE_TF"])[stack]
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(stack + " " + " ".join(args[1:]) + "\\n")
if command == "init":
    if behaviour == "init-fails":
        print("Error: S3 bucket does not exist.", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
if command == "plan":
    if behaviour == "plan-fails":
        print("Error: AccessDenied", file=sys.stderr)
        sys.exit(1)
    print("Plan: 2 to add, 0 to change, 1 to destroy." if behaviour == "changes" else "No changes.")
    sys.exit(2 if behaviour == "changes" else 0)
if command == "show" and "-json" in args:
    if behaviour == "json-fails":
        sys.exit(1)
    changes = [("aws_lambda_function.f", ["create"]), ("aws_dynamodb_table.t", ["delete", "create"])]
    changes = changes if behaviour == "changes" else []
    print(json.dumps({"resource_changes": [
        {"address": a, "mode": "managed", "type": a.split(".")[0], "change": {"actions": x}}
        for a, x in changes
    ]}))
    sys.exit(0)
if command == "show":
    print("PLAN FOR " + stack)
    sys.exit(0)
sys.exit(3)
"""


def synthesized(tmp_path: Path, backends: dict[str, str]) -> Path:
    outdir = tmp_path / "cdktf.out"
    stacks = {}
    for name, backend in backends.items():
        stack_dir = outdir / "stacks" / name
        stack_dir.mkdir(parents=True)
        terraform: dict[str, Any] = {"backend": {backend: {}}} if backend != "none" else {}
        (stack_dir / "cdk.tf.json").write_text(json.dumps({"terraform": terraform}))
        stacks[name] = {"workingDirectory": f"stacks/{name}"}
    (outdir / "manifest.json").write_text(json.dumps({"stacks": stacks}))
    return outdir


@pytest.fixture
def fake_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bin_dir = tmp_path / "bin"
    fake_executable(bin_dir, "terraform", FAKE_TERRAFORM)
    monkeypatch.setenv("PATH", f"{bin_dir}")
    log = tmp_path / "terraform.log"
    monkeypatch.setenv("FAKE_TF_LOG", str(log))

    def configure(behaviours: dict[str, str]) -> Path:
        monkeypatch.setenv("FAKE_TF", json.dumps(behaviours))
        return log

    return configure


def test_plan_all_plans_remote_stacks_and_skips_local_state(tmp_path: Path, fake_tf, capsys):
    log = fake_tf({"app": "changes", "quiet": "no-changes"})
    outdir = synthesized(tmp_path, {"state-backend": "local", "app": "s3", "quiet": "s3"})
    results = tmp_path / "results"

    assert plan_all(outdir, results) == 0

    loaded = {r.stack: (r, text) for r, text in load_results(results)}
    table = {"address": "aws_dynamodb_table.t", "resource_type": "aws_dynamodb_table", "action": "replace"}
    assert loaded["app"][0] == StackResult(
        "app", "changes", add=2, change=0, destroy=1, replace=1, destructive=[table]
    )
    assert loaded["app"][1] == "PLAN FOR app\n"
    assert loaded["quiet"][0].status == "no-changes"
    assert loaded["state-backend"][0].status == "skipped"
    assert "make diff STACK=state-backend" in loaded["state-backend"][0].detail
    calls = log.read_text()
    assert "state-backend" not in calls  # never planned without its state
    assert "app plan -input=false -no-color -lock=false -out=tfplan -detailed-exitcode" in calls
    written = "".join(p.read_text() for p in results.rglob("*") if p.is_file())
    assert "resource_changes" not in written  # the unmasked JSON plan is never written


def test_a_stack_without_a_backend_block_counts_as_local(tmp_path: Path, fake_tf):
    fake_tf({})
    outdir = synthesized(tmp_path, {"bare": "none"})
    assert plan_all(outdir, tmp_path / "results") == 0
    assert load_results(tmp_path / "results")[0][0].status == "skipped"


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("init-fails", "make bootstrap"),
        ("plan-fails", "Error: AccessDenied"),
        ("json-fails", "the plan cannot be checked for data loss"),
    ],
)
def test_failures_are_recorded_and_fail_the_run(tmp_path: Path, fake_tf, behaviour: str, expected: str):
    fake_tf({"app": behaviour})
    outdir = synthesized(tmp_path, {"app": "s3"})
    assert plan_all(outdir, tmp_path / "results") == 1
    result, _ = load_results(tmp_path / "results")[0]
    assert result.status == "error"
    assert expected in result.detail


def test_render_command_writes_the_body_for_gh_api(tmp_path: Path):
    results = tmp_path / "results" / "app"
    results.mkdir(parents=True)
    (results / "result.json").write_text(json.dumps({"stack": "app", "status": "changes", "add": 1}))
    (results / "plan.txt").write_text("PLAN")
    out = tmp_path / "comment.json"
    argv = ["render", "--results", str(tmp_path / "results"), "--out", str(out), "--sha", "abc"]
    assert plan_comment.main([*argv, "--environment", "prod"]) == 0
    body = json.loads(out.read_text())["body"]
    assert body.startswith(marker("prod"))
    assert "PLAN" in body


# --- the data guard --------------------------------------------------------------------------------

TABLE = {"address": "aws_dynamodb_table.t", "resource_type": "aws_dynamodb_table", "action": "replace"}
QUEUE = {"address": "aws_sqs_queue.q", "resource_type": "aws_sqs_queue", "action": "delete"}
REASON = "the dev table is recreated empty on purpose for the new key schema"


def guarded() -> list[tuple[StackResult, str]]:
    app = StackResult("app", "changes", add=1, destroy=2, replace=1, destructive=[TABLE, QUEUE])
    return [(app, "PLAN"), (StackResult("quiet", "no-changes"), "")]


def test_every_planned_loss_of_a_stateful_resource_blocks_unless_allowed():
    allowed = [
        Allowed("dev", "app", "aws_sqs_queue.q", REASON),
        Allowed("prod", "app", "aws_dynamodb_table.t", REASON),  # another environment: does not apply
    ]
    found = findings(guarded(), "dev", allowed)
    assert [(f.address, f.blocking) for f in found] == [
        ("aws_dynamodb_table.t", True),
        ("aws_sqs_queue.q", False),
    ]
    code, report = guard(found, "dev")
    assert code == 1
    assert "BLOCKING: `app`: `aws_dynamodb_table.t` would be replaced (loses its items" in report
    assert "allowed: `app`: `aws_sqs_queue.q` would be deleted" in report and REASON in report
    assert ".github/allowed-destroys.toml" in report
    both = [*allowed[1:], Allowed("prod", "app", "aws_sqs_queue.q", REASON)]
    assert guard(findings(guarded(), "prod", both), "prod")[0] == 0
    assert guard([], "dev") == (0, "plan guard (dev): no stateful resource is lost without an allow entry")


def test_the_comment_marks_blocking_and_allowed_losses():
    found = findings(guarded(), "dev", [Allowed("dev", "app", "aws_sqs_queue.q", REASON)])
    body = render_comment(guarded(), "dev", found=found)
    row = "| `app` | changes (1 replaced) :warning: destroys resources :no_entry: 1 stateful replaced"
    assert row + " or deleted (blocking) |" in body
    assert "#### :no_entry: Blocking: 1 planned replacement or deletion of stateful resources" in body
    assert "- :no_entry: **blocking**: `app`: `aws_dynamodb_table.t` would be replaced" in body
    assert "- :white_check_mark: allowed: `app`: `aws_sqs_queue.q` would be deleted" in body
    assert "`.github/allowed-destroys.toml`" in body
    quiet = render_comment([(StackResult("quiet", "no-changes"), "")], "dev")
    assert "Blocking" not in quiet and "allowed" not in quiet


def test_sarif_reports_blocking_losses_as_errors_and_allowed_ones_as_notes():
    found = findings(guarded(), "dev", [Allowed("dev", "app", "aws_sqs_queue.q", REASON)])
    report = sarif(found, "dev")
    assert report["version"] == "2.1.0"
    results = report["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("stateful-resource-replaced", "error"),
        ("stateful-resource-deleted", "note"),
    ]
    assert "environment dev: app: aws_dynamodb_table.t would be replaced" in results[0]["message"]["text"]
    assert (
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        == ".github/allowed-destroys.toml"
    )
    rules = {rule["id"] for rule in report["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rules


def test_the_committed_allow_list_is_valid():
    assert all(entry.reason for entry in load_allow_list())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[allow]]\nenvironment = "dev"\nstack = "app"\naddress = "a.b"\n', "needs exactly"),
        (
            '[[allow]]\nenvironment = "dev"\nstack = "app"\naddress = "a.b"\nreason = "because"\n',
            "at least 20",
        ),
        (f'[[allow]]\nenvironment = "dev"\nstack = "app"\naddress = ""\nreason = "{REASON}"\n', "empty"),
        ('allow = "everything"\n', r"only \[\[allow\]\] entries"),
        ("[[allow]\n", "not valid TOML"),
    ],
)
def test_a_bad_allow_list_is_refused(tmp_path: Path, text: str, message: str):
    path = tmp_path / "allowed-destroys.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_allow_list(path)


def test_guard_command_fails_the_job_until_the_loss_is_allowed(tmp_path: Path, capsys):
    results = tmp_path / "results" / "app"
    results.mkdir(parents=True)
    (results / "result.json").write_text(
        json.dumps({"stack": "app", "status": "changes", "destructive": [TABLE]})
    )
    allow = tmp_path / "allowed-destroys.toml"
    argv = [
        "guard",
        "--results",
        str(tmp_path / "results"),
        "--environment",
        "dev",
        "--allow-list",
        str(allow),
    ]
    assert plan_comment.main(argv) == 1
    assert "BLOCKING" in capsys.readouterr().err
    entry = 'environment = "dev"\nstack = "app"\naddress = "aws_dynamodb_table.t"'
    allow.write_text(f'[[allow]]\n{entry}\nreason = "{REASON}"\n')
    assert plan_comment.main(argv) == 0
    sarif_path = tmp_path / "guard.sarif"
    render = [
        "render",
        "--results",
        str(tmp_path / "results"),
        "--environment",
        "dev",
        "--allow-list",
        str(allow),
    ]
    assert plan_comment.main([*render, "--out", str(tmp_path / "c.json"), "--sarif", str(sarif_path)]) == 0
    assert json.loads(sarif_path.read_text())["runs"][0]["results"][0]["level"] == "note"
