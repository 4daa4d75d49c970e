"""Fraud-detection handler (SQS batch) against moto, GIVEN/WHEN/THEN."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from card_transactions.handlers import fraud_detection, validation
from tests.events import queue_message, sqs_batch, stream_body, transaction_body


@pytest.fixture(autouse=True)
def merchant(aws):
    """GIVEN the messages' merchant configured (the consumer reads it; messages carry none)."""
    aws.put_merchant()


def test_scores_and_finalizes_a_pending_transaction(aws):
    # GIVEN a transaction accepted by the validation handler
    aws.put_merchant()
    aws.post()
    # WHEN its message is delivered
    response = aws.pump()
    # THEN the record is final, with score, reasons and timestamps; no alert for APPROVED
    assert response == {"batchItemFailures": []}
    record = aws.record("txn_123456")
    assert record["status"] == "APPROVED"
    assert record["fraud_score"] == 0
    assert record["reasons"] == []
    assert record["processed_at"] >= record["received_at"]
    assert "alert_required" not in record and "alert_sent_at" not in record
    assert aws.alerts() == []


def test_fraud_suspected_is_alerted_from_the_stream_without_cardholder_data(aws):
    aws.put_merchant(name="Dummy Traders", max_transaction_amount="100000")
    aws.post(transaction_body(amount=Decimal("6000"), currency="JPY", metadata={"order": "A-1"}))
    aws.pump()
    record = aws.record("txn_123456")
    assert (record["status"], record["fraud_score"]) == ("FRAUD_SUSPECTED", 100)
    # THEN the function published nothing; the committed transition yields exactly one alert
    assert aws.published() == []
    (alert,) = aws.alerts()
    assert alert == {
        "alert_type": "FRAUD",
        "transaction_id": "txn_123456",
        "merchant_id": "merchant_001",
        "amount": "6000.00",  # the stored number's text (moto keeps it as written; DynamoDB: "6000")
        "currency": "JPY",
        "status": "FRAUD_SUSPECTED",
        "fraud_score": 100,
        "reasons": ["HIGH_AMOUNT", "SUSPICIOUS_MERCHANT_NAME", "UNUSUAL_CURRENCY", "ROUND_AMOUNT"],
        "received_at": record["received_at"],
    }


@pytest.mark.parametrize(("setting", "alerts"), [(False, 0), (True, 1)])
def test_review_required_alert_is_a_filter_of_the_pipe(aws, setting, alerts):
    aws.put_merchant(name="Test Merchant")
    aws.fraud([queue_message()])
    assert aws.record("txn_123456")["status"] == "REVIEW_REQUIRED"
    assert len(aws.alerts(alert_on_review_required=setting)) == alerts


def test_duplicate_delivery_changes_nothing_and_alerts_once(aws):
    # GIVEN a suspected transaction already processed
    aws.put_merchant(name="fake shop")
    body = queue_message(amount=Decimal("1000"))
    aws.fraud([body])
    first = aws.record("txn_123456")
    assert len(aws.alerts()) == 1
    # WHEN the same message is delivered again (in the same batch and later)
    _, response = aws.fraud([body, body], receive_count=2)
    # THEN success, the record untouched, no second alert
    assert response == {"batchItemFailures": []}
    assert aws.record("txn_123456") == first
    assert aws.alerts() == []
    assert len(aws.records()) == 1


def test_missing_pending_record_is_created(aws):
    # A compensated (deleted) pending record whose message got through anyway: the consumer creates it.
    aws.fraud([queue_message(transaction_id="orphan", metadata={"k": "v"})])
    record = aws.record("orphan")
    assert record["status"] == "APPROVED"
    assert record["merchant_id"] == "merchant_001"
    assert record["metadata"] == {"k": "v"}
    assert record["received_epoch_ms"] == 1741083330123


def test_message_for_a_superseded_payload_is_ignored(aws):
    # GIVEN a pending record for payload B
    aws.put_merchant()
    aws.post(transaction_body(amount=Decimal("20")))
    aws.queued()
    # WHEN a stale message for payload A (same id) arrives
    _, response = aws.fraud([queue_message(amount=Decimal("10"))])
    # THEN it succeeds without touching B's record
    assert response == {"batchItemFailures": []}
    record = aws.record("txn_123456")
    assert (record["status"], record["amount"]) == ("PENDING_FRAUD_CHECK", Decimal("20"))


def test_partial_batch_failure_reports_only_the_bad_record(aws):
    good1, good2 = queue_message(transaction_id="g1"), queue_message(transaction_id="g2")
    event, response = aws.fraud([good1, "{not json", good2])
    poison_id = event["Records"][1]["messageId"]
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert {r["transaction_id"] for r in aws.records()} == {"g1", "g2"}


def test_every_record_failing_is_reported_not_raised(aws):
    event, response = aws.fraud(["x", "y"])
    assert response == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def test_throttling_is_retried_then_reported_as_batch_item_failure(aws, failing_client, no_retry_sleep):
    # GIVEN DynamoDB throttling every attempt
    dynamodb, attempts = failing_client(
        "dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", 99
    )
    fraud_detection.wire(dynamodb=dynamodb)
    # WHEN a batch arrives
    event, response = aws.fraud([queue_message(transaction_id="t1")])
    # THEN the client retried (3 attempts, 2 back-offs) and the record is reported for redelivery
    assert attempts[0] == 3
    assert len(no_retry_sleep) == 2
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert aws.record("t1") is None
    # AND once throttling stops, the redelivery succeeds
    fraud_detection.wire()
    assert aws.fraud([event["Records"][0]["body"]], receive_count=2)[1] == {"batchItemFailures": []}
    assert aws.record("t1")["status"] == "APPROVED"


def test_transient_throttling_is_absorbed_by_retries(aws, failing_client):
    dynamodb, attempts = failing_client("dynamodb", "UpdateItem", "ThrottlingException", 2)
    fraud_detection.wire(dynamodb=dynamodb)
    assert aws.fraud([queue_message()])[1] == {"batchItemFailures": []}
    assert attempts[0] == 3
    assert aws.record("txn_123456")["status"] == "APPROVED"


def test_per_merchant_thresholds_travel_in_the_message(aws):
    aws.put_merchant(fraud_high_amount=Decimal("100"), fraud_suspected_threshold=Decimal("30"))
    aws.post(transaction_body(amount=Decimal("150")))
    aws.pump()
    record = aws.record("txn_123456")
    assert (record["status"], record["reasons"]) == ("FRAUD_SUSPECTED", ["HIGH_AMOUNT"])


def _post_at(aws, moments, **body):
    for index, moment in enumerate(moments):
        validation.wire(clock=lambda m=moment: m)
        assert aws.post(transaction_body(transaction_id=f"v{index}", **body))[0] == 202


@pytest.mark.parametrize(("max_tx", "expected"), [("", [False] * 4), ("2", [False, False, True, True])])
def test_velocity_rule(aws, monkeypatch, max_tx, expected):
    # GIVEN the velocity rule (more than 2 in 60 s: +20) on or off
    monkeypatch.setenv("VELOCITY_MAX_TRANSACTIONS", max_tx)
    monkeypatch.setenv("VELOCITY_POINTS", "20")
    fraud_detection.reset()
    aws.put_merchant()
    start = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    # WHEN four transactions arrive 10 s apart, and a later one outside the window
    _post_at(aws, [start + timedelta(seconds=10 * i) for i in range(4)])
    aws.pump()
    # THEN the third and fourth fire the rule only when it is on
    fired = ["HIGH_VELOCITY" in aws.record(f"v{i}")["reasons"] for i in range(4)]
    assert fired == expected


def test_velocity_window_slides(aws, monkeypatch):
    monkeypatch.setenv("VELOCITY_MAX_TRANSACTIONS", "1")
    monkeypatch.setenv("VELOCITY_WINDOW_SECONDS", "30")
    fraud_detection.reset()
    aws.put_merchant()
    start = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    _post_at(aws, [start, start + timedelta(seconds=20), start + timedelta(seconds=60)])
    aws.pump()
    assert [aws.record(f"v{i}")["fraud_score"] for i in range(3)] == [0, 20, 0]


def test_invalid_settings_fail_loudly(aws, monkeypatch):
    monkeypatch.setenv("FRAUD_HIGH_AMOUNT", "lots")
    fraud_detection.reset()
    with pytest.raises(ValueError, match="FRAUD_HIGH_AMOUNT"):
        fraud_detection.wire()


def test_a_merchant_snapshot_in_the_message_is_not_trusted(aws):
    # GIVEN a merchant configured with the default thresholds
    # WHEN a message claims overrides that would approve a suspicious transaction (as a forged or
    # earlier-release message could)
    forged = json.loads(queue_message(amount=Decimal("9000"), currency="CHF"))
    forged["merchant"] = {
        "merchant_id": "merchant_001",
        "name": "Acme Stores",
        "fraud_review_threshold": "1000",
        "fraud_suspected_threshold": "1000",
    }
    aws.fraud([json.dumps(forged)])
    # THEN the configured thresholds score it (30 + 20 + 10 = 60)
    record = aws.record("txn_123456")
    assert (record["status"], record["fraud_score"]) == ("FRAUD_SUSPECTED", 60)


def test_a_message_for_an_unknown_merchant_is_poison(aws):
    event, response = aws.fraud([queue_message(merchant_id="m_nobody")])
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert aws.records() == []


def test_merchants_are_read_once_per_batch_then_cached(aws):
    # GIVEN a counting DynamoDB client and two merchants
    import boto3

    aws.put_merchant(merchant_id="m_2", name="Other")
    dynamodb = boto3.client("dynamodb", region_name="us-east-2")
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    fraud_detection.wire(dynamodb=dynamodb)
    bodies = [
        queue_message(transaction_id=f"t{i}", merchant_id=("m_2" if i % 2 else "merchant_001"))
        for i in range(6)
    ]
    # WHEN two batches are processed
    for batch in (bodies[:4], bodies[4:]):
        assert fraud_detection.handler(sqs_batch(batch), aws.context) == {"batchItemFailures": []}
    # THEN one BatchGetItem for both merchants, no GetItem, and the second batch read none
    assert calls.count("BatchGetItem") == 1
    assert "GetItem" not in calls
    assert calls.count("UpdateItem") == 6


def test_a_failed_record_is_reported_and_left_to_the_visibility_timeout(
    aws, aws_calls, failing_client, deliver
):
    # GIVEN DynamoDB failing WHEN the event source mapping delivers a message (queue visibility timeout 0)
    dynamodb, _ = failing_client("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", 99)
    fraud_detection.wire(dynamodb=dynamodb)
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody=stream_body(queue_message()))
    event_response = deliver(aws, aws.queue_url, fraud_detection.handler)
    # THEN it is reported as failed, and the function made no other call (no SQS client at all): the
    # message is visible again after the queue's visibility timeout, here at once, one receive more
    assert len(event_response["batchItemFailures"]) == 1
    assert aws_calls == []
    (again,) = aws.sqs.receive_message(
        QueueUrl=aws.queue_url, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=0
    )["Messages"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_poison_message_goes_to_the_dlq_after_max_receive_count_receives(aws, deliver):
    aws.sqs.send_message(QueueUrl=aws.queue_url, MessageBody='{"S": "not a message"}')
    receives = 0
    while (response := deliver(aws, aws.queue_url, fraud_detection.handler)) is not None:
        assert len(response["batchItemFailures"]) == 1
        receives += 1
    assert receives == 3  # the test queue's maxReceiveCount
    (dead,) = aws.drain(aws.dlq_url)
    assert dead["Body"] == '{"S": "not a message"}'


def test_scores_messages_in_either_body_form_and_prefetches_their_merchants(aws):
    # GIVEN a message as the stream enqueues it and a bare one (queued by an earlier release, or a dead
    # letter sent back by hand), and a client counting the DynamoDB calls
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-2")
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    fraud_detection.wire(dynamodb=dynamodb)
    bodies = [stream_body(queue_message(transaction_id="wrapped")), queue_message(transaction_id="bare")]
    # WHEN they are delivered together
    assert fraud_detection.handler(sqs_batch(bodies), aws.context) == {"batchItemFailures": []}
    # THEN both are scored, their merchant read once for the batch
    assert {aws.record(t)["status"] for t in ("wrapped", "bare")} == {"APPROVED"}
    assert calls == ["BatchGetItem", "UpdateItem", "UpdateItem"]
