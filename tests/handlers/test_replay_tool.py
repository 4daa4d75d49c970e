"""``python -m tools.replay`` (``make replay``) against moto: the reconciler's pass, run by hand."""

from __future__ import annotations

import json

import pytest

from tools import replay


def _run(capsys, *args: str) -> tuple[int, dict]:
    code = replay.main(["--table", "processed-transactions-test", *args])
    return code, _report(capsys)


def _report(capsys) -> dict:
    """The tool's one JSON line (the handlers of the test log to stdout before it)."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_replay_re_drives_pending_transactions_now(aws, capsys):
    aws.put_merchant()
    aws.post()
    (lost,) = aws.queued()
    before = aws.record("txn_123456")
    code, report = _run(capsys, "--older-than", "0", "--dry-run")
    assert (code, report["found"], report["requeued"], report["dry_run"]) == (0, 1, 0, True)
    assert aws.record("txn_123456") == before  # a dry run writes nothing
    assert aws.queued() == []
    code, report = _run(capsys, "--older-than", "0")
    assert report == {
        "found": 1,
        "requeued": 1,
        "without_payload": 0,
        "failed": 0,
        "changed": 0,
        "dry_run": False,
    }
    assert code == 0
    assert aws.queued() == [lost]  # the touch, queued by the stream
    aws.fraud([lost])
    assert _run(capsys, "--older-than", "0")[1]["found"] == 0


def test_replay_leaves_recent_transactions_to_their_own_message(aws, capsys):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert _run(capsys)[1]["found"] == 0  # default --older-than 60


def test_replay_calls_dynamodb_only(aws, capsys, monkeypatch):
    """No SQS client: the operator needs no queue permission (and no --queue-url)."""
    import boto3

    services: list[str] = []
    real = boto3.session.Session.client

    def recording(self, service, *args, **kwargs):
        services.append(service)
        return real(self, service, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", recording)
    monkeypatch.setenv("ENVIRONMENT_SUFFIX", "test")
    assert replay.main([]) == 0
    assert _report(capsys)["found"] == 0
    assert services == ["dynamodb"]


@pytest.mark.parametrize("args", [["--older-than", "-1"], ["--limit", "0"], ["--queue-url", "q"]])
def test_replay_refuses_bad_arguments(args):
    with pytest.raises(SystemExit):
        replay.parse_args(args)
