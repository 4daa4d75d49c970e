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
    StackResult,
    count_actions,
    counts_from_text,
    load_results,
    plan_all,
    render_comment,
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


def test_counts_from_the_plan_summary_line():
    text = "...\nPlan: 12 to add, 3 to change, 1 to destroy.\n"
    assert counts_from_text(text) == {"add": 12, "change": 3, "destroy": 1, "replace": 0}
    assert counts_from_text("No changes. Your infrastructure matches the configuration.") is None


# --- rendering -------------------------------------------------------------------------------------


def test_comment_starts_with_the_marker_and_summarizes_each_stack():
    results = [
        (StackResult("state-backend", "skipped", detail="local state"), ""),
        (
            StackResult("transaction-processing", "changes", add=3, change=1, destroy=2, replace=1),
            "PLAN TEXT",
        ),
    ]
    body = render_comment(results, sha="0123456789abcdef", run_url="https://example.invalid/run/1")
    assert body.startswith(MARKER + "\n")
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
    body = render_comment(results)
    assert "| `a` | no changes | 0 | 0 | 0 |" in body
    assert "| `b` | :x: plan failed |" in body
    assert "<summary>b: error</summary>" in body
    assert "Error: bucket does not exist" in body


def test_a_plan_containing_backticks_cannot_close_the_code_block():
    body = render_comment([(StackResult("a", "changes", add=1), 'x = "```"\n````')])
    assert "`````text\n" in body


@pytest.mark.parametrize("stacks", [1, 2, 5])
def test_huge_plans_are_truncated_to_the_github_limit(stacks: int):
    huge = '  + resource "aws_thing" "x" {}\n' * 20_000  # ~660k characters each
    results = [(StackResult(f"s{i}", "changes", add=20_000), huge) for i in range(stacks)]
    body = render_comment(results, sha="f" * 40, run_url="https://example.invalid/run/1")
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
    body = render_comment(results)
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
    actions = [["create"], ["delete", "create"]] if behaviour == "changes" else []
    print(json.dumps({"resource_changes": [{"change": {"actions": a}} for a in actions]}))
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
    assert loaded["app"][0] == StackResult("app", "changes", add=2, change=0, destroy=1, replace=1)
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
    [("init-fails", "make bootstrap"), ("plan-fails", "Error: AccessDenied")],
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
    assert plan_comment.main(argv) == 0
    body = json.loads(out.read_text())["body"]
    assert body.startswith(MARKER)
    assert "PLAN" in body
