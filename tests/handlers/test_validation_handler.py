"""Validation handler (API Gateway REST proxy) against moto, GIVEN/WHEN/THEN."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from card_transactions.handlers import validation
from tests.events import api_get, api_post, load_event, transaction_body

ACCEPTED = {
    "message": "Transaction validated and queued",
    "transaction_id": "txn_123456",
    "status": "pending_fraud_check",
}


def test_accepts_a_valid_transaction(aws):
    # GIVEN an active merchant
    aws.put_merchant()
    # WHEN the README's sample request is posted
    status, body, headers = aws.post()
    # THEN 202 with the accepted body and a pending record carrying its message
    assert (status, body) == (202, ACCEPTED)
    assert headers["Content-Type"] == "application/json"
    record = aws.record("txn_123456")
    assert record["status"] == "PENDING_FRAUD_CHECK"
    assert record["amount"] == Decimal("1500")
    assert record["currency"] == "USD"
    assert len(record["payload_hash"]) == 64
    assert record["received_at"].endswith("Z")
    assert isinstance(record["received_epoch_ms"], Decimal)
    assert record["reasons"] == []
    message = json.loads(record["message"])
    assert message["transaction"] == {
        "transaction_id": "txn_123456",
        "merchant_id": "merchant_001",
        "amount": "1500.00",
        "currency": "USD",
    }
    assert "merchant" not in message  # the consumer reads the merchant itself
    assert message["payload_hash"] == record["payload_hash"]
    # AND the table's stream queues that message, as the stream shows the attribute
    assert [json.loads(body) for body in aws.queued()] == [{"S": record["message"]}]


def test_base64_body_is_accepted(aws):
    aws.put_merchant()
    raw = json.dumps(
        {"transaction_id": "b64", "merchant_id": "merchant_001", "amount": 10, "currency": "EUR"}
    )
    status, _, _ = aws.post(body=base64.b64encode(raw.encode()).decode(), isBase64Encoded=True)
    assert status == 202


def test_amount_is_never_rounded_through_float(aws):
    aws.put_merchant(max_transaction_amount="1000000000")
    status, _, _ = aws.post(transaction_body(transaction_id="big", amount=Decimal("999999999.99")))
    assert status == 202
    assert aws.record("big")["amount"] == Decimal("999999999.99")
    assert aws.get("big")[1]["amount"] == "999999999.99"


@pytest.mark.parametrize(
    ("event_overrides", "status", "code"),
    [
        ({"body": "{not json"}, 400, "INVALID_JSON"),
        ({"body": None}, 400, "INVALID_JSON"),
        ({"body": '{"amount": NaN}'}, 400, "INVALID_JSON"),
        (
            {"body": json.dumps({"transaction_id": "t", "merchant_id": "merchant_001", "amount": 1})},
            400,
            "VALIDATION_FAILED",
        ),
        ({"body": json.dumps({"a": "x" * 9000})}, 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_request_errors(aws, event_overrides, status, code):
    aws.put_merchant()
    event = api_post(**event_overrides)
    response = validation.handler(event, aws.context)
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    error = json.loads(response["body"])["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert isinstance(error["details"], list)
    # the id a client quotes to support: API Gateway's request id of this request
    assert error["request_id"] == event["requestContext"]["requestId"]
    assert aws.queued() == []
    assert aws.records() == []


def test_validation_failed_names_each_bad_field(aws):
    aws.put_merchant()
    body = {
        "transaction_id": "bad id",
        "merchant_id": "merchant_001",
        "amount": Decimal("1.001"),
        "currency": "usd",
        "pan": "4111111111111112",
    }
    status, response, _ = aws.post(body)
    assert status == 400
    fields = {d["field"] for d in response["error"]["details"]}
    assert fields == {"transaction_id", "amount", "currency", "pan"}
    assert "4111111111111112" not in json.dumps({k: v for k, v in response.items()}).replace('"pan"', "")


@pytest.mark.parametrize(
    ("merchant", "body", "code"),
    [
        (None, transaction_body(), "MERCHANT_NOT_FOUND"),
        ({"active": False}, transaction_body(), "MERCHANT_INACTIVE"),
        ({"max_transaction_amount": "1499.99"}, transaction_body(), "AMOUNT_EXCEEDS_MERCHANT_LIMIT"),
        (
            {"max_transaction_amount": "1500"},
            transaction_body(amount=Decimal("1500.01")),
            "AMOUNT_EXCEEDS_MERCHANT_LIMIT",
        ),
    ],
)
def test_merchant_rejections(aws, merchant, body, code):
    # GIVEN a missing, inactive or too-small merchant
    if merchant is not None:
        aws.put_merchant(**merchant)
    # WHEN a transaction is posted
    status, response, _ = aws.post(body)
    # THEN 422 with the code, and nothing stored or queued
    assert status == 422
    assert response["error"]["code"] == code
    assert aws.records() == []
    assert aws.queued() == []
    # AND the answer says nothing beyond the code: one message, no limit, no existence hint
    assert response["error"]["message"] == "The merchant cannot take this transaction"
    assert not any(char.isdigit() for char in json.dumps(response["error"]["details"]))


def test_amount_equal_to_merchant_limit_is_accepted(aws):
    aws.put_merchant(max_transaction_amount="1500")
    assert aws.post()[0] == 202


def test_malformed_merchant_item_fails_closed(aws):
    aws.dynamodb.put_item(
        TableName="merchant-config-test",
        Item={"merchant_id": {"S": "merchant_001"}, "active": {"BOOL": True}},
    )
    status, response, _ = aws.post()
    assert (status, response["error"]["code"]) == (422, "MERCHANT_INACTIVE")


def test_idempotent_replay_after_processing_enqueues_nothing(aws):
    # GIVEN an accepted and processed transaction
    aws.put_merchant()
    assert aws.post()[0] == 202
    aws.pump()
    before = aws.record("txn_123456")
    # WHEN the same payload is posted again (amount written differently but equal)
    status, body, _ = aws.post(transaction_body(amount=Decimal("1500")))
    # THEN the first request's answer, nothing enqueued, the record untouched
    assert (status, body) == (202, ACCEPTED)
    assert aws.queued() == []
    assert aws.record("txn_123456") == before


def test_replay_while_pending_answers_the_same_and_sends_nothing(aws, aws_calls, capsys):
    # GIVEN an accepted transaction, still pending (its message queued by the stream, not scored yet)
    aws.put_merchant()
    assert aws.post()[0] == 202
    (queued,) = aws.queued()
    before = aws.record("txn_123456")
    aws_calls.clear()
    capsys.readouterr()
    # WHEN the client retries
    status, body, _ = aws.post()
    # THEN the first answer, from the refused conditional PutItem alone: no SQS call, no change, so no
    # stream record and nothing queued again
    assert (status, body) == (202, ACCEPTED)
    assert aws_calls == [("dynamodb", "PutItem")]
    assert aws.record("txn_123456") == before
    assert aws.queued() == []
    assert '"TransactionsReplayed":[1.0]' in capsys.readouterr().out
    # AND the first message scores it once
    aws.fraud([queued])
    assert aws.record("txn_123456")["status"] == "APPROVED"


def test_conflicting_replay_is_409_and_changes_nothing(aws):
    aws.put_merchant()
    assert aws.post()[0] == 202
    before = aws.record("txn_123456")
    aws.queued()
    status, body, _ = aws.post(transaction_body(amount=Decimal("1500.01")))
    assert status == 409
    assert body["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert aws.record("txn_123456") == before
    assert aws.queued() == []


def test_replay_after_merchant_deactivated_returns_the_first_answer(aws):
    aws.put_merchant()
    assert aws.post()[0] == 202
    aws.pump()
    aws.put_merchant(active=False)
    validation.wire()  # new container: empty merchant cache
    assert aws.post()[:2] == (202, ACCEPTED)
    assert aws.post(transaction_body(transaction_id="other"))[0] == 422


def test_a_failed_put_is_503_and_leaves_nothing_behind(aws, failing_client):
    # GIVEN the table refusing every write attempt
    aws.put_merchant()
    dynamodb, attempts = failing_client("dynamodb", "PutItem", "InternalServerError", times=3, status=500)
    validation.wire(dynamodb=dynamodb)
    # WHEN a transaction is posted
    status, body, headers = aws.post()
    # THEN botocore retried, the client is told to retry, nothing is stored or queued
    assert (attempts[0], status, body["error"]["code"]) == (3, 503, "SERVICE_UNAVAILABLE")
    assert headers["Retry-After"] == "1"
    assert aws.records() == []
    assert aws.queued() == []
    # AND the client's retry is accepted and queued once
    assert aws.post()[0] == 202
    assert len(aws.queued()) == 1


def test_dynamodb_outage_is_503(aws, failing_client):
    aws.put_merchant()
    dynamodb, _ = failing_client("dynamodb", "GetItem", "ProvisionedThroughputExceededException", times=99)
    validation.wire(dynamodb=dynamodb)
    status, body, _ = aws.post()
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert aws.records() == []


def test_merchant_cache_ttl(aws, monkeypatch):
    # GIVEN a container with a 60 s merchant cache and a controllable clock
    now = [100.0]
    monkeypatch.setenv("MERCHANT_CACHE_TTL_SECONDS", "60")
    validation.wire(monotonic=lambda: now[0])
    aws.put_merchant()
    assert aws.post(transaction_body(transaction_id="t1"))[0] == 202
    # WHEN the merchant is deactivated
    aws.put_merchant(active=False)
    # THEN the cached config is used until the TTL expires
    now[0] += 59
    assert aws.post(transaction_body(transaction_id="t2"))[0] == 202
    now[0] += 2
    status, body, _ = aws.post(transaction_body(transaction_id="t3"))
    assert (status, body["error"]["code"]) == (422, "MERCHANT_INACTIVE")


def test_get_returns_the_stored_record(aws):
    aws.put_merchant(name="Test Merchant")
    aws.post()
    assert aws.get("txn_123456")[1]["status"] == "PENDING_FRAUD_CHECK"
    aws.pump()
    status, body = aws.get("txn_123456")
    assert status == 200
    assert body["status"] == "REVIEW_REQUIRED"
    assert body["fraud_score"] == 40
    assert body["reasons"] == ["SUSPICIOUS_MERCHANT_NAME"]
    assert body["amount"] == "1500.00"
    assert datetime.fromisoformat(body["processed_at"]).tzinfo == UTC
    assert "payload_hash" not in body


def test_get_unknown_and_invalid_ids(aws):
    status, body = aws.get("nope")
    assert (status, body["error"]["code"]) == (404, "TRANSACTION_NOT_FOUND")
    status, body = aws.get("bad%20id")
    assert (status, body["error"]["code"]) == (400, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("method", "resource", "path", "status", "code"),
    [
        ("PUT", "/transaction", "/transaction", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/transaction", "/transaction", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/transaction/{transaction_id}", "/transaction/x", 405, "METHOD_NOT_ALLOWED"),
        ("POST", "/transaction/{transaction_id}", "/transaction/x", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/other", "/other", 404, "NOT_FOUND"),
        ("GET", None, "/transactions", 404, "NOT_FOUND"),
        ("GET", None, None, 404, "NOT_FOUND"),
    ],
)
def test_unknown_routes(aws, method, resource, path, status, code):
    event = load_event("apigw_get_transaction")
    event.update(httpMethod=method, resource=resource, path=path)
    response = validation.handler(event, aws.context)
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"])["error"]["code"] == code
    if status == 405:
        assert response["headers"]["Allow"] in ("POST", "GET")


def test_routes_by_path_when_resource_is_missing(aws):
    aws.put_merchant()
    assert validation.handler(api_post(resource=None), aws.context)["statusCode"] == 202
    event = api_get("txn_123456", resource=None, pathParameters=None)
    assert validation.handler(event, aws.context)["statusCode"] == 200


def test_aws_requests_per_accepted_transaction(aws, aws_calls):
    """The request budget: cold cache 3 + 1, steady state 1 + 1 (validation + fraud detection); no
    function calls SQS (the stream queues, the event source mapping receives and deletes)."""
    aws.put_merchant()
    aws.post(transaction_body(transaction_id="t1"))
    # the key's client, the merchant, the one write
    assert aws_calls == [("dynamodb", "GetItem"), ("dynamodb", "GetItem"), ("dynamodb", "PutItem")]
    aws_calls.clear()
    aws.post(transaction_body(transaction_id="t2"))
    assert aws_calls == [("dynamodb", "PutItem")]
    aws_calls.clear()
    aws.pump()
    # the merchant once per batch when not cached, then one write per transaction (2 queued)
    assert aws_calls == [("dynamodb", "BatchGetItem"), ("dynamodb", "UpdateItem"), ("dynamodb", "UpdateItem")]
    aws_calls.clear()
    aws.post(transaction_body(transaction_id="t3"))
    aws.pump()
    assert aws_calls == [("dynamodb", "PutItem"), ("dynamodb", "UpdateItem")]  # the merchant is cached


@pytest.mark.parametrize(
    "overrides",
    [
        {"transaction_id": "4111111111111111"},
        {"transaction_id": "4111-1111-1111-1111"},
        {"merchant_id": "4000000000000000006"},
        {"metadata": {"note": "card 4111.1111.1111.1111 exp 12/27"}},
        {"metadata": {"4111 1111 1111 1111": "key"}},
    ],
)
def test_card_numbers_are_refused_unlogged_and_unstored(aws, capsys, overrides):
    # GIVEN an active merchant
    aws.put_merchant()
    # WHEN a request carries a card number in any field
    status, response, _ = aws.post({**transaction_body(), **overrides})
    # THEN 400 CARD_NUMBER_NOT_ALLOWED naming the field, with the number nowhere: not in the answer,
    # the logs, the table or the queue
    assert (status, response["error"]["code"]) == (400, "CARD_NUMBER_NOT_ALLOWED")
    fields = {"transaction_id", "merchant_id", "metadata.note", "metadata"}
    assert response["error"]["details"][0]["field"] in fields
    logs = capsys.readouterr().out
    assert "CARD_NUMBER_NOT_ALLOWED" in logs
    for text in (json.dumps(response), logs):
        assert "1111" not in text and "0000000000" not in text
    assert aws.records() == []
    assert aws.queued() == []


def test_card_number_as_get_path_parameter_is_refused_unlogged(aws, capsys):
    status, response = aws.get("4111-1111-1111-1111")
    assert (status, response["error"]["code"]) == (400, "CARD_NUMBER_NOT_ALLOWED")
    assert response["error"]["details"] == [
        {"field": "transaction_id", "message": "must not contain a card number"}
    ]
    assert "1111" not in capsys.readouterr().out
