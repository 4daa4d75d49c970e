"""Reconciler handler against moto: stale pending transactions found through the sparse index and
re-driven by the conditional touch, which the table's stream queues again; nothing else touched, no SQS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from card_transactions.handlers import reconciler
from card_transactions.handlers.domain.records import PENDING_SHARDS
from tests.events import queue_message, stream_body, transaction_body

NOTHING = {"found": 0, "requeued": 0, "without_payload": 0, "failed": 0, "changed": 0}


def _an_hour_ahead() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


@pytest.fixture
def immediate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pending transaction counts as stale (RECONCILE_AFTER_SECONDS=1, a clock one hour ahead)."""
    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "1")
    reconciler.wire(clock=_an_hour_ahead)


def test_pending_transaction_whose_message_was_lost_is_re_driven_and_scored(aws, immediate):
    # GIVEN an accepted transaction whose message never reached the consumer
    aws.put_merchant()
    aws.post()
    (lost,) = aws.queued()
    # WHEN the reconciler runs
    report = aws.reconcile()
    # THEN it found and touched it, and the stream queued its stored message again
    assert report == {**NOTHING, "found": 1, "requeued": 1}
    (requeued,) = aws.queued()
    assert requeued == lost == stream_body(aws.record("txn_123456")["message"])
    # AND the consumer scores it; it leaves the index, so the next run finds nothing
    aws.fraud([requeued])
    assert aws.record("txn_123456")["status"] == "APPROVED"
    assert aws.reconcile() == NOTHING


def test_the_touch_passes_the_enqueue_pattern_and_the_retries_exhausted_mark_does_not(aws, immediate):
    # GIVEN an accepted transaction whose message was dead-lettered after a long outage
    aws.put_merchant()
    aws.post()
    (body,) = aws.queued()
    aws.failed([body], receive_count=24)
    marked = aws.record("txn_123456")
    assert (marked["status"], marked["failure_reason"]) == (
        "PENDING_FRAUD_CHECK",
        "PROCESSING_RETRIES_EXHAUSTED",
    )
    # THEN the "retries exhausted" write queues nothing
    assert aws.enqueue() == []
    # WHEN the reconciler runs
    assert aws.reconcile()["requeued"] == 1
    # THEN its touch (pending_since_ms moved on, failure_reason removed) is the one record queued
    (touch,) = aws.enqueue()
    assert touch["eventName"] == "MODIFY"
    new_image = touch["dynamodb"]["NewImage"]
    assert "failure_reason" not in new_image
    assert int(new_image["pending_since_ms"]["N"]) > int(marked["pending_since_ms"])
    # AND the consumer scores it from that message
    assert aws.pump()["batchItemFailures"] == []
    assert aws.record("txn_123456")["status"] == "APPROVED"


def test_a_dead_letter_of_a_transaction_never_posted_is_re_driven_too(aws, immediate):
    # GIVEN a message dead-lettered for a transaction the table does not have (the mark creates it)
    aws.put_merchant()
    aws.failed([queue_message(transaction_id="outage-victim")], receive_count=24)
    assert aws.enqueue() == []
    # WHEN the reconciler runs THEN it re-drives it, and the consumer scores it
    assert aws.reconcile()["requeued"] == 1
    aws.pump()
    assert aws.record("outage-victim")["status"] == "APPROVED"


def test_recent_pending_transactions_are_left_alone(aws):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert aws.reconcile() == NOTHING  # default 900 s
    assert aws.queued() == []


def test_a_re_driven_transaction_is_not_touched_again_until_it_is_stale_again(aws, immediate):
    aws.put_merchant()
    aws.post()
    aws.queued()
    assert aws.reconcile()["requeued"] == 1
    # still pending (the queue is not drained by a consumer) but just re-driven: no flood
    assert aws.reconcile()["found"] == 0
    assert len(aws.queued()) == 1


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


def test_the_reconciler_calls_dynamodb_only(aws, aws_calls, monkeypatch):
    aws.put_merchant()
    aws.post()
    aws.queued()
    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "1")
    reconciler.wire(clock=_an_hour_ahead)
    aws_calls.clear()
    assert aws.reconcile()["requeued"] == 1
    # a Query per shard, the touch in the shard of the record: no SendMessage, no other service
    assert sorted(aws_calls) == [*[("dynamodb", "Query")] * PENDING_SHARDS, ("dynamodb", "UpdateItem")]


def test_a_touch_failing_on_the_table_fails_the_run_after_counting(aws, immediate, failing_client):
    aws.put_merchant()
    aws.post()
    aws.queued()
    dynamodb, _ = failing_client("dynamodb", "UpdateItem", "InternalServerError", 99, status=500)
    reconciler.wire(dynamodb=dynamodb, clock=_an_hour_ahead)
    with pytest.raises(Exception, match="not re-driven"):
        aws.reconcile()
    assert aws.queued() == []  # nothing written, nothing queued
    reconciler.wire(clock=_an_hour_ahead)
    assert aws.reconcile()["requeued"] == 1  # still stale: the next run touches it
    assert len(aws.queued()) == 1


def test_a_record_scored_since_it_was_found_is_left_alone(aws, immediate, monkeypatch):
    # GIVEN a pending transaction that the consumer scores between the reconciler's Query and its touch
    from card_transactions.handlers.adapters.dynamodb import PendingTransactions

    aws.put_merchant()
    aws.post()
    (body,) = aws.queued()
    query = PendingTransactions.stale

    def stale_then_scored(self, *args):
        found = query(self, *args)
        if found:
            aws.fraud([body])
        return found

    monkeypatch.setattr(PendingTransactions, "stale", stale_then_scored)
    # WHEN the reconciler runs THEN the touch's condition fails: counted as changed, the run completes
    assert aws.reconcile() == {**NOTHING, "found": 1, "changed": 1}
    # AND the scored record is untouched and nothing is queued
    assert aws.record("txn_123456")["status"] == "APPROVED"
    assert aws.queued() == []


def test_pending_record_without_a_stored_message_is_counted_not_touched(aws, immediate):
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
    aws.enqueue()
    assert aws.reconcile() == {**NOTHING, "found": 1, "without_payload": 1}
    assert aws.queued() == []
    assert aws.record("legacy")["pending_since_ms"] == 1  # untouched
