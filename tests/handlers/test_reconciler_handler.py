"""Reconciler handler against moto: stale pending transactions found through the sparse index and
re-enqueued with their stored message; nothing else touched."""

from __future__ import annotations

import pytest

from card_transactions.handlers import reconciler
from card_transactions.handlers.domain.records import PENDING_SHARDS
from tests.events import queue_message, transaction_body


@pytest.fixture
def immediate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pending transaction counts as stale (RECONCILE_AFTER_SECONDS=1, a clock one hour ahead)."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "1")
    reconciler.wire(clock=lambda: datetime.now(UTC) + timedelta(hours=1))


def test_pending_transaction_whose_message_was_lost_is_requeued_and_scored(aws, immediate):
    # GIVEN an accepted transaction whose message never reached the consumer (lost between the two calls)
    aws.put_merchant()
    aws.post()
    (lost,) = aws.queued()
    # WHEN the reconciler runs
    report = aws.reconcile()
    # THEN it found it and sent its stored message again
    assert report == {"found": 1, "requeued": 1, "without_payload": 0, "failed": 0}
    (requeued,) = aws.queued()
    assert requeued == lost
    # AND the consumer scores it; it leaves the index, so the next run finds nothing
    aws.fraud([requeued])
    assert aws.record("txn_123456")["status"] == "APPROVED"
    assert aws.reconcile()["found"] == 0


def test_recent_pending_transactions_are_left_alone(aws):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert aws.reconcile() == {"found": 0, "requeued": 0, "without_payload": 0, "failed": 0}  # default 900 s
    assert aws.queued() == []


def test_a_requeued_transaction_is_not_sent_again_until_it_is_stale_again(aws, immediate):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert aws.reconcile()["requeued"] == 1
    # still pending (the queue is not drained by a consumer) but just re-enqueued: no flood
    assert aws.reconcile()["found"] == 0
    assert len(aws.queued()) == 1


def test_retries_exhausted_transaction_is_requeued_and_scored(aws, immediate):
    # GIVEN a transaction of a configured merchant whose message was dead-lettered after a long outage
    aws.put_merchant()
    body = queue_message(transaction_id="outage-victim")
    aws.failed([body], receive_count=24)
    # WHEN the reconciler runs THEN it re-enqueues it, and the consumer scores it
    assert aws.reconcile()["requeued"] == 1
    aws.pump()
    assert aws.record("outage-victim")["status"] == "APPROVED"


def test_every_shard_is_read_and_final_records_are_not_in_the_index(aws, immediate):
    aws.put_merchant(max_transaction_amount="100000")
    ids = [f"t{i}" for i in range(40)]
    for transaction_id in ids:
        aws.post(transaction_body(transaction_id=transaction_id))
    shards = {int(r["pending_shard"]) for r in aws.records()}
    assert len(shards) > PENDING_SHARDS // 2  # spread over the partitions of the index
    aws.fraud(aws.queued()[:10])  # ten are scored
    assert aws.reconcile()["requeued"] == 30
    assert len(aws.queued()) == 30


def test_queue_failure_fails_the_run_after_counting(aws, immediate, failing_client):
    from datetime import UTC, datetime, timedelta

    aws.put_merchant()
    aws.post()
    aws.queued()
    sqs, _ = failing_client("sqs", "SendMessage", "InternalError", 99, status=500)
    reconciler.wire(sqs=sqs, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(Exception, match="not re-enqueued"):
        aws.reconcile()
    reconciler.wire(clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert aws.reconcile()["requeued"] == 1  # not marked when the send failed: the next run sends it


def test_pending_record_without_a_stored_message_is_counted_not_sent(aws, immediate):
    from card_transactions.handlers.adapters.dynamodb import to_item

    aws.dynamodb.put_item(
        TableName="processed-transactions-test",
        Item=to_item(
            {
                "transaction_id": "legacy",
                "status": "PENDING_FRAUD_CHECK",
                "pending_shard": 3,
                "pending_since_ms": 1,
            }
        ),
    )
    assert aws.reconcile() == {"found": 1, "requeued": 0, "without_payload": 1, "failed": 0}
    assert aws.queued() == []
