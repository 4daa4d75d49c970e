"""``python -m tools.replay`` (``make replay``) against moto: the reconciler's pass, run by hand."""

from __future__ import annotations

import json

import pytest

from tools import replay


def _run(aws, capsys, *args: str) -> tuple[int, dict]:
    code = replay.main(["--table", "processed-transactions-test", "--queue-url", aws.queue_url, *args])
    return code, _report(capsys)


def _report(capsys) -> dict:
    """The tool's one JSON line (the handlers of the test log to stdout before it)."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_replay_requeues_pending_transactions_now(aws, capsys):
    aws.put_merchant()
    aws.post()
    (lost,) = aws.queued()
    code, report = _run(aws, capsys, "--older-than", "0", "--dry-run")
    assert (code, report["found"], report["requeued"]) == (0, 1, 0)
    assert aws.queued() == []  # a dry run sends nothing
    code, report = _run(aws, capsys, "--older-than", "0")
    assert (code, report["found"], report["requeued"]) == (0, 1, 1)
    assert aws.queued() == [lost]
    aws.fraud([lost])
    assert _run(aws, capsys, "--older-than", "0")[1]["found"] == 0


def test_replay_leaves_recent_transactions_to_their_own_message(aws, capsys):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert _run(aws, capsys)[1]["found"] == 0  # default --older-than 60


def test_replay_finds_the_queue_by_its_name(aws, capsys, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "test")
    assert replay.main(["--table", "processed-transactions-test"]) == 0
    assert _report(capsys)["found"] == 0


@pytest.mark.parametrize("args", [["--older-than", "-1"], ["--limit", "0"]])
def test_replay_refuses_bad_arguments(args):
    with pytest.raises(SystemExit):
        replay.parse_args(args)
