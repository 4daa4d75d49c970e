"""Failed-transaction handler (DLQ batch) against moto, plus the poison-message path end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from card_transactions.handlers import failed_transaction, fraud_detection
from tests.events import queue_message, stream_body, transaction_body


@pytest.fixture(autouse=True)
def merchant(aws):
    """GIVEN the messages' merchant configured (the fraud consumer reads it)."""
    aws.put_merchant()


def test_dead_letter_of_a_valid_message_keeps_the_transaction_for_rescoring(aws):
    # GIVEN an accepted transaction whose processing kept failing on a dependency
    aws.put_merchant()
    aws.post()
    body = aws.queued()[0]
    # WHEN its message arrives from the DLQ
    event, response = aws.failed([body], receive_count=24)
    # THEN it stays pending (not FAILED), marked, with its message in the sparse pending index
    assert response == {"batchItemFailures": []}
    record = aws.record("txn_123456")
    assert record["status"] == "PENDING_FRAUD_CHECK"
    assert record["retries_exhausted_at"]
    assert record["receive_count"] == 24
    assert record["message_id"] == event["Records"][0]["messageId"]
    assert stream_body(record["message"]) == body  # the queue had it as the stream shows it
    assert record["pending_since_ms"] == record["received_epoch_ms"]
    assert record["failure_reason"] == "PROCESSING_RETRIES_EXHAUSTED"
    # AND the stream carries its dead-letter alert (the function published nothing)
    (alert,) = aws.alerts()
    assert alert == {
        "alert_type": "TRANSACTION_DEAD_LETTERED",
        "transaction_id": "txn_123456",
        "status": "PENDING_FRAUD_CHECK",
        "failure_reason": "PROCESSING_RETRIES_EXHAUSTED",
        "receive_count": 24,
    }
    assert aws.published() == []
    assert aws.get("txn_123456")[1]["status"] == "PENDING_FRAUD_CHECK"
    # AND once its message is delivered again, it is scored and leaves the pending index
    aws.fraud([body])
    record = aws.record("txn_123456")
    assert record["status"] == "APPROVED"
    assert not {"pending_shard", "pending_since_ms", "message", "failure_reason"} & set(record)
    assert aws.alerts() == []


def test_dead_letter_whose_merchant_is_gone_is_failed_not_kept_for_the_reconciler(aws):
    # GIVEN an accepted transaction whose merchant was deleted before it could be scored
    aws.post()
    body = aws.queued()[0]
    aws.delete_merchant("merchant_001")
    # WHEN the fraud consumer's refusal reaches the DLQ
    aws.failed([body], receive_count=24)
    # THEN it is final (the reconciler would otherwise resend it forever), out of the pending index
    record = aws.record("txn_123456")
    assert (record["status"], record["failure_reason"]) == ("FAILED", "MERCHANT_NOT_FOUND")
    assert not {"pending_shard", "pending_since_ms", "retries_exhausted_at"} & set(record)
    (alert,) = aws.alerts()
    assert (alert["status"], alert["failure_reason"]) == ("FAILED", "MERCHANT_NOT_FOUND")


def test_dead_letter_of_a_lost_pending_record_creates_it_pending(aws):
    _, response = aws.failed([queue_message(transaction_id="never-stored")])
    assert response == {"batchItemFailures": []}
    record = aws.record("never-stored")
    assert record["status"] == "PENDING_FRAUD_CHECK"
    assert record["merchant_id"] == "merchant_001" and record["amount"] == Decimal("1500")
    assert record["message"]


def test_invalid_message_for_a_pending_transaction_marks_it_failed(aws):
    aws.put_merchant()
    aws.post()
    aws.queued()
    _, response = aws.failed(['{"version": 9, "transaction": {"transaction_id": "txn_123456"}}'])
    assert response == {"batchItemFailures": []}
    record = aws.record("txn_123456")
    assert (record["status"], record["failure_reason"]) == ("FAILED", "INVALID_MESSAGE")
    assert not {"pending_shard", "pending_since_ms", "message"} & set(record)  # out of the pending index
    (alert,) = aws.alerts()
    assert (alert["alert_type"], alert["status"]) == ("TRANSACTION_DEAD_LETTERED", "FAILED")


def test_non_json_body_is_recorded_by_message_id(aws):
    event, response = aws.failed(["\x00 not json at all"])
    message_id = event["Records"][0]["messageId"]
    assert response == {"batchItemFailures": []}
    record = aws.record(f"dlq-{message_id}")
    assert record["status"] == "FAILED"
    assert record["failure_reason"] == "UNPARSEABLE_BODY"
    assert "merchant_id" not in record  # stays out of the by-merchant index
    (alert,) = aws.alerts()  # created FAILED: the template needs no transaction field it lacks
    assert (alert["transaction_id"], alert["failure_reason"]) == (f"dlq-{message_id}", "UNPARSEABLE_BODY")


def test_final_status_is_never_overwritten(aws):
    body = queue_message()
    aws.fraud([body])
    assert aws.record("txn_123456")["status"] == "APPROVED"
    _, response = aws.failed([body])
    assert response == {"batchItemFailures": []}
    assert aws.record("txn_123456")["status"] == "APPROVED"
    assert aws.alerts() == []


def test_one_alert_per_dead_lettered_transaction_and_a_redelivery_alerts_nobody(aws):
    bodies = [queue_message(transaction_id=f"t{i}") for i in range(3)] + ["garbage", "more garbage"]
    event, response = aws.failed(bodies)
    assert response == {"batchItemFailures": []}
    alerts = aws.alerts()
    assert sorted((a["status"], a["failure_reason"]) for a in alerts) == [
        ("FAILED", "UNPARSEABLE_BODY"),
        ("FAILED", "UNPARSEABLE_BODY"),
        *[("PENDING_FRAUD_CHECK", "PROCESSING_RETRIES_EXHAUSTED")] * 3,
    ]
    # a redelivery of the dead messages records nothing new, so nothing is alerted again
    failed_transaction.handler(event, aws.context)
    assert aws.alerts() == []
    assert len(aws.records()) == 5


def test_a_second_dead_lettering_after_the_reconciler_alerts_again(aws, monkeypatch):
    # GIVEN a transaction dead-lettered once and re-enqueued by the reconciler
    from datetime import UTC, datetime, timedelta

    from card_transactions.handlers import reconciler

    monkeypatch.setenv("RECONCILE_AFTER_SECONDS", "1")
    reconciler.wire(clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    body = queue_message(transaction_id="again")
    aws.failed([body])
    assert len(aws.alerts()) == 1
    aws.reconcile()
    assert "failure_reason" not in aws.record("again")
    assert aws.alerts() == []
    # WHEN its message is dead-lettered again
    aws.failed([aws.queued()[0]])
    # THEN that transition alerts again
    (alert,) = aws.alerts()
    assert (alert["transaction_id"], alert["failure_reason"]) == ("again", "PROCESSING_RETRIES_EXHAUSTED")


def test_partial_failure_when_dynamodb_fails_for_one_record(aws, failing_client):
    dynamodb, _ = failing_client("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", 3)
    failed_transaction.wire(dynamodb=dynamodb)
    event, response = aws.failed([queue_message(transaction_id="a"), queue_message(transaction_id="b")])
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert aws.record("a") is None
    assert aws.record("b")["retries_exhausted_at"]
    assert [a["transaction_id"] for a in aws.alerts()] == ["b"]


def test_poison_message_reaches_the_dlq_and_becomes_failed(aws, deliver):
    # GIVEN an accepted transaction whose message is corrupted on the queue, next to a healthy one
    aws.put_merchant()
    aws.post(transaction_body(transaction_id="healthy"))
    aws.enqueue()
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody="{corrupted")
    # WHEN the event source mapping delivers until the queue is empty (maxReceiveCount 3)
    rounds = 0
    while deliver(aws, aws.queue_url, fraud_detection.handler) is not None:
        rounds += 1
        assert rounds < 10
    # THEN the healthy transaction is final and the poison message moved to the DLQ
    assert aws.record("healthy")["status"] == "APPROVED"
    response = deliver(aws, aws.dlq_url, failed_transaction.handler)
    assert response == {"batchItemFailures": []}
    (failed,) = [r for r in aws.records() if r["status"] == "FAILED"]
    assert failed["transaction_id"].startswith("dlq-")
    assert failed["failure_reason"] == "INVALID_MESSAGE" or failed["failure_reason"] == "UNPARSEABLE_BODY"
    assert failed["receive_count"] >= 3
    alerted = [a["transaction_id"] for a in aws.alerts() if a["status"] == "FAILED"]
    assert alerted == [failed["transaction_id"]]


def test_a_dead_letter_of_a_scored_transaction_changes_nothing_and_alerts_nobody(aws):
    # GIVEN a suspected transaction scored (its alert came from the stream) whose message was dead-lettered
    body = queue_message(amount=Decimal("6000"), currency="JPY")
    aws.fraud([body])
    assert [a["alert_type"] for a in aws.alerts()] == ["FRAUD"]
    # WHEN the dead message reaches the failed-transaction handler
    _, response = aws.failed([body])
    # THEN the final status stays and no second alert exists
    assert response == {"batchItemFailures": []}
    assert aws.record("txn_123456")["status"] == "FRAUD_SUSPECTED"
    assert aws.alerts() == []
