"""The API and the pipeline end to end, through the local runtime: HTTP in, DynamoDB/SNS/SQS out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from decimal import Decimal
from typing import Any

import pytest

from card_transactions.stacks.config import Settings
from local.driver import (
    ROOT,
    TERMINAL,
    Response,
    Runtime,
    as_json,
    transaction,
    wait_for,
    wait_while_progressing,
)
from local.seed import SAMPLE_MERCHANTS

SETTINGS = Settings()  # the runtime runs the default settings
README_TRANSACTION = {
    "transaction_id": "txn_test_001",
    "merchant_id": "merchant_001",
    "amount": Decimal("1500.00"),
    "currency": "USD",
}


@pytest.fixture(scope="module")
def merchants(runtime: Runtime) -> dict[str, str]:
    return {
        "plain": runtime.put_merchant("Acme Stores", limit="100000"),
        "suspicious": runtime.put_merchant("Dummy Payments"),
        "inactive": runtime.put_merchant("Closed Shop", active=False),
        "small": runtime.put_merchant("Corner Shop", limit="50"),
    }


# --- the README's flow -------------------------------------------------------------------


def test_readme_flow_with_boto3_and_http(runtime: Runtime) -> None:
    # GIVEN the README's merchant, written with DynamoDB's API (aws dynamodb put-item)
    runtime.put_merchant("Test Merchant", merchant_id="merchant_001")
    # WHEN the README's transaction is posted with the x-api-key header
    response = runtime.post(README_TRANSACTION)
    # THEN it is accepted like the deployed API answers
    assert response.status == 202
    assert response.body == {
        "message": "Transaction validated and queued",
        "transaction_id": "txn_test_001",
        "status": "pending_fraud_check",
    }
    # AND the scored transaction is readable with GET and in processed-transactions-dev
    view = runtime.wait_final("txn_test_001")
    assert (view["status"], view["fraud_score"], view["amount"]) == ("REVIEW_REQUIRED", 40, "1500.00")
    record = runtime.record("txn_test_001")
    assert record is not None and record["status"] == "REVIEW_REQUIRED"
    assert runtime.table("processed-transactions") == "processed-transactions-dev"


@pytest.mark.skipif(
    shutil.which("aws") is None or shutil.which("curl") is None, reason="needs the aws CLI and curl"
)
def test_printed_commands_work_as_pasted(runtime: Runtime) -> None:
    """The banner's aws/curl lines, run as printed (only credentials exported, as the banner says)."""
    lines = [line.strip() for line in runtime.log().splitlines()]
    commands = [line for line in lines if line.startswith(("aws ", "curl "))]
    put, post, get_http, get_item = commands[:4]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION=runtime.info["region"]
    )

    def sh(command: str) -> str:
        done = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0 and "aws" in command and "No module named" in done.stderr:
            pytest.skip(f"the aws CLI does not run here: {done.stderr[-200:]}")
        assert done.returncode == 0, done.stderr
        return done.stdout

    sh(put)
    assert json.loads(sh(post))["status"] == "pending_fraud_check"

    def final_item() -> dict | None:
        item = json.loads(sh(get_item) or "{}").get("Item")
        return item if item and item["status"]["S"] != "PENDING_FRAUD_CHECK" else None

    item = wait_for(final_item, 20, interval=0.5, what="the README transaction in processed-transactions-dev")
    assert item["fraud_score"] == {"N": "40"}
    assert json.loads(sh(get_http))["status"] == "REVIEW_REQUIRED"


def test_sample_merchants_are_seeded(runtime: Runtime) -> None:
    sample = next(m for m in SAMPLE_MERCHANTS if m["active"] and "test" not in m["name"].lower())
    response = runtime.post(transaction(sample["merchant_id"], "12.34"))
    assert response.status == 202


# --- every fraud status ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("merchant", "amount", "currency", "status", "score", "alerted"),
    [
        ("plain", "120.50", "USD", "APPROVED", 0, False),
        ("plain", "7000", "GBP", "REVIEW_REQUIRED", 40, False),  # > 5000 and a multiple of 1000
        ("suspicious", "25.00", "EUR", "REVIEW_REQUIRED", 40, False),  # "Dummy" in the name
        ("plain", "6000", "JPY", "FRAUD_SUSPECTED", 60, True),
        ("suspicious", "300", "CHF", "FRAUD_SUSPECTED", 60, True),
    ],
)
def test_fraud_status(
    runtime: Runtime, merchants: dict[str, str], merchant, amount, currency, status, score, alerted
):
    body = transaction(merchants[merchant], amount, currency)
    assert runtime.post(body).status == 202
    view = runtime.wait_final(body["transaction_id"])
    assert (view["status"], view["fraud_score"]) == (status, score)
    if alerted:
        alert = wait_for(lambda: runtime.alerts_about(body["transaction_id"]), 10, what="the fraud alert")[0]
        assert (alert["alert_type"], alert["status"], alert["fraud_score"]) == ("FRAUD", status, score)
    else:
        assert runtime.alerts_about(body["transaction_id"]) == []


# --- every error ----------------------------------------------------------------------------------


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape, with the request id of the x-amzn-RequestId header; returns the error."""
    assert response.status == status, response.body
    assert set(response.body) == {"error"}
    error = response.body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    assert error["request_id"] == response.headers["x-amzn-requestid"]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    return error


def test_missing_or_wrong_api_key_is_forbidden(runtime: Runtime, merchants: dict[str, str]) -> None:
    for key in (None, "not-the-key-0123456789"):
        response = runtime.post(transaction(merchants["plain"]), key=key)
        assert_error(response, 403, "INVALID_API_KEY")
        assert response.headers["x-amzn-errortype"] == "ForbiddenException"
    assert_error(runtime.get("txn_anything", key=None), 403, "INVALID_API_KEY")


def test_unknown_routes_and_undeclared_methods_answer_like_api_gateway(runtime: Runtime) -> None:
    for method, path in (
        ("GET", "/transaction"),
        ("DELETE", "/transaction/x"),
        ("GET", "/nothing"),
        ("TRACE", "/transaction"),
        ("PROPFIND", "/transaction/x"),
        ("PUT", "/transaction"),
    ):
        response = runtime.request(method, path)
        assert_error(response, 403, "ROUTE_NOT_FOUND")
        assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_gateway_errors_of_the_transport_have_the_one_shape(runtime: Runtime) -> None:
    # a body larger than API Gateway's 10 MB hard limit: 413 before anything reads it
    response = runtime.request("POST", "/transaction", headers={"Content-Length": str(11 * 1024 * 1024)})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    # a malformed Content-Length: API Gateway's own 400, its message kept
    response = runtime.request("POST", "/transaction", headers={"Content-Length": "ten"})
    assert assert_error(response, 400, "CLIENT_ERROR")["message"] == "Bad Request"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "INVALID_JSON"),
        ("", "INVALID_JSON"),
        ('{"transaction_id": "t1", "merchant_id": "m1", "amount": 10}', "VALIDATION_FAILED"),  # no currency
        (
            '{"transaction_id": "t1", "merchant_id": "m1", "amount": 10, "currency": "usd"}',
            "VALIDATION_FAILED",
        ),
        (
            '{"transaction_id": "t1", "merchant_id": "m1", "amount": 0, "currency": "USD"}',
            "VALIDATION_FAILED",
        ),
        (
            '{"transaction_id": "t1", "merchant_id": "m1", "amount": 10, "currency": "USD", "pan": "4111"}',
            "VALIDATION_FAILED",
        ),
        ('[{"transaction_id": "t1"}]', "VALIDATION_FAILED"),
    ],
)
def test_the_function_rejects_bodies_outside_the_schema(runtime: Runtime, body: str, code: str) -> None:
    # No API Gateway validator checks bodies (its messages would quote request values into the
    # execution log): the function validates against the same schema and names the fields.
    response = runtime.post(body)
    error = assert_error(response, 400, code)
    if code == "VALIDATION_FAILED":
        assert error["details"] and all("field" in d for d in error["details"])


def test_handler_validation_errors(runtime: Runtime, merchants: dict[str, str]) -> None:
    # three decimal places pass the schema but not the function
    response = runtime.post(transaction(merchants["plain"], "10.125"))
    assert assert_error(response, 400, "VALIDATION_FAILED")["details"][0]["field"] == "amount"
    assert_error(runtime.get("bad!id"), 400, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    "overrides",
    [
        {"transaction_id": "4111-1111-1111-1111"},
        {"metadata": {"note": "paid by 4111 1111 1111 1111"}},
        {"metadata": {"card.4222222222222": "x"}},
    ],
)
def test_card_numbers_are_refused_and_never_stored(
    runtime: Runtime, merchants: dict[str, str], overrides: dict
) -> None:
    body = {**transaction(merchants["plain"]), **overrides}
    response = runtime.post(body)
    assert response.status == 400 and response.body["error"]["code"] == "CARD_NUMBER_NOT_ALLOWED"
    assert "1111" not in json.dumps(response.body) and "2222" not in json.dumps(response.body)
    assert runtime.record(body["transaction_id"]) is None
    response = runtime.get("4111-1111-1111-1111")
    assert response.status == 400 and response.body["error"]["code"] == "CARD_NUMBER_NOT_ALLOWED"


def test_unknown_transaction_is_404(runtime: Runtime) -> None:
    assert_error(runtime.get(f"txn_{uuid.uuid4().hex}"), 404, "TRANSACTION_NOT_FOUND")


def test_same_id_with_another_payload_is_409(runtime: Runtime, merchants: dict[str, str]) -> None:
    body = transaction(merchants["plain"], "10.00")
    assert runtime.post(body).status == 202
    response = runtime.post({**body, "amount": Decimal("11.00")})
    assert response.status == 409 and response.body["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_body_over_the_configured_limit_is_413(runtime: Runtime, merchants: dict[str, str]) -> None:
    # Valid for the schema (whitespace), larger than MAX_BODY_BYTES: the function's limit answers.
    body = as_json(transaction(merchants["plain"]))
    padded = body[:-1] + " " * SETTINGS.max_body_bytes + "}"
    response = runtime.post(padded)
    assert response.status == 413 and response.body["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    ("merchant", "amount", "code"),
    [
        (None, "10.00", "MERCHANT_NOT_FOUND"),
        ("inactive", "10.00", "MERCHANT_INACTIVE"),
        ("small", "50.01", "AMOUNT_EXCEEDS_MERCHANT_LIMIT"),
    ],
)
def test_merchant_rules_are_422(runtime: Runtime, merchants: dict[str, str], merchant, amount, code) -> None:
    merchant_id = merchants[merchant] if merchant else f"m_unknown_{uuid.uuid4().hex[:8]}"
    response = runtime.post(transaction(merchant_id, amount))
    assert response.status == 422 and response.body["error"]["code"] == code


# --- idempotency ----------------------------------------------------------------------------------


def test_replay_returns_the_first_answer_and_processes_once(
    runtime: Runtime, merchants: dict[str, str]
) -> None:
    def validation_counts() -> tuple[float, float]:
        counted = runtime.status()["metrics"].get("validation-lambda-dev", {})
        return counted.get("TransactionsAccepted", 0), counted.get("TransactionsReplayed", 0)

    accepted, replayed = validation_counts()
    body = transaction(merchants["plain"], "6000", "JPY")
    first = runtime.post(body)
    # the same payload with an equivalent amount spelling is the same request (replayed while pending)
    again = runtime.post({**body, "amount": Decimal("6000.00")})
    assert first.status == again.status == 202
    assert first.body == again.body
    view = runtime.wait_final(body["transaction_id"])
    after = runtime.post(body)
    assert (after.status, after.body) == (202, first.body)
    assert view["status"] == "FRAUD_SUSPECTED"
    assert runtime.get(body["transaction_id"]).body == view
    wait_for(lambda: runtime.alerts_about(body["transaction_id"]), 10, what="the fraud alert")
    assert len(runtime.alerts_about(body["transaction_id"])) == 1
    # one submission accepted and two replayed (pending, then scored), as the function's metrics count them
    wait_for(lambda: validation_counts() == (accepted + 1, replayed + 2), 5, what="the validation metrics")


# --- dead letters ---------------------------------------------------------------------------------


def test_poison_message_reaches_the_dlq_and_becomes_failed_with_an_alert(runtime: Runtime) -> None:
    sqs = runtime.client("sqs")
    transaction_id = f"txn_poison_{uuid.uuid4().hex[:8]}"
    # parseable JSON naming a transaction, but not a valid message: fraud detection fails it every time
    poison = json.dumps({"version": 1, "transaction": {"transaction_id": transaction_id}})
    sqs.send_message(QueueUrl=runtime.queue_url("transaction-queue"), MessageBody=poison)
    garbage_id = sqs.send_message(QueueUrl=runtime.queue_url("transaction-queue"), MessageBody="not json")[
        "MessageId"
    ]

    def failed_record() -> tuple[int, dict[str, Any] | None]:
        """(records fraud detection failed so far, the FAILED record): each receive of the poison message
        fails, and it returns after the queue's visibility timeout until its receives run out."""
        pollers = runtime.status()["pollers"]
        failed = sum(p["failed"] for name, p in pollers.items() if name.startswith("fraud-detection"))
        return failed, runtime.record(transaction_id)

    record = wait_while_progressing(failed_record, 15, what="the FAILED record")
    assert (record["status"], record["failure_reason"]) == ("FAILED", "INVALID_MESSAGE")
    assert record["receive_count"] >= SETTINGS.max_receive_count
    garbage = wait_for(
        lambda: runtime.record(f"dlq-{garbage_id}"), 30, interval=0.25, what="the unparseable one"
    )
    assert (garbage["status"], garbage["failure_reason"]) == ("FAILED", "UNPARSEABLE_BODY")
    alert = wait_for(lambda: runtime.alerts_about(transaction_id), 10, what="the failure alert")[0]
    assert (alert["alert_type"], alert["status"]) == ("TRANSACTION_DEAD_LETTERED", "FAILED")
    assert runtime.get(transaction_id).body["status"] == "FAILED"
    wait_for(lambda: runtime.queue_depth("transaction-dlq") == 0, 10, what="an empty DLQ")


# --- OpenAPI --------------------------------------------------------------------------------------


def test_served_openapi_matches_the_committed_document(runtime: Runtime) -> None:
    served = runtime.request("GET", "/openapi.json", key=None)
    assert served.status == 200
    assert served.body["servers"][0]["url"] == runtime.info["api_url"]
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert {**served.body, "servers": served.body["servers"][1:]} == committed, (
        "docs/openapi.json is out of date: run `.venv/bin/python -m local.openapi`"
    )
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(committed)
    schema = committed["paths"]["/transaction"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert schema == {"$ref": "#/components/schemas/TransactionRequest"}


# --- AWS requests per transaction, and who makes them -----------------------------------------------


def _requests(runtime: Runtime, maker: str) -> dict[str, int]:
    return runtime.status()["aws_requests"][maker]


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}


def test_the_table_s_stream_enqueues_an_accepted_transaction_and_no_function_calls_sqs(
    runtime: Runtime, merchants: dict[str, str]
) -> None:
    # GIVEN the merchant in the validation function's cache
    warm = transaction(merchants["plain"])
    assert runtime.post(warm).status == 202
    wait_for(
        lambda: (runtime.record(warm["transaction_id"]) or {}).get("status") in TERMINAL, 20, what="warm-up"
    )
    functions, pipes = _requests(runtime, "functions"), _requests(runtime, "pipes")
    enqueued = runtime.status()["rules"]["transaction-alerts-dev-enqueue"]["published"]
    # WHEN one more transaction is accepted and approved (read back without going through the functions)
    body = transaction(merchants["plain"])
    assert runtime.post(body).status == 202
    wait_for(
        lambda: (runtime.record(body["transaction_id"]) or {}).get("status") == "APPROVED",
        20,
        what="approval",
    )
    # THEN the functions made exactly PutItem + UpdateItem, plus a read of the merchant where the
    # environment had not cached it (validation's GetItem, fraud detection's BatchGetItem): no SQS call,
    # no SNS call
    made = _delta(_requests(runtime, "functions"), functions)
    assert made.pop("dynamodb:GetItem", 0) <= 1 and made.pop("dynamodb:BatchGetItem", 0) <= 1
    assert made == {"dynamodb:PutItem": 1, "dynamodb:UpdateItem": 1}
    # AND the message reached the queue from the table's stream: the enqueue rule sent it (the reconciler
    # may have re-driven another record meanwhile)
    assert _delta(_requests(runtime, "pipes"), pipes).get("sqs:SendMessage", 0) >= 1
    assert runtime.status()["rules"]["transaction-alerts-dev-enqueue"]["published"] >= enqueued + 1


# --- the functions' metrics, read from their EMF output -----------------------------------------------


def test_the_functions_metrics_count_each_transaction(runtime: Runtime, merchants: dict[str, str]) -> None:
    def metrics() -> dict[str, dict[str, float]]:
        return runtime.status()["metrics"]

    def delta(after: dict[str, dict[str, float]], function: str, metric: str) -> float:
        return after.get(function, {}).get(metric, 0) - before.get(function, {}).get(metric, 0)

    # GIVEN the metrics so far
    before = metrics()
    # WHEN one transaction is accepted and approved, and one is rejected
    body = transaction(merchants["plain"])
    assert runtime.post(body).status == 202
    assert runtime.post(transaction(merchants["inactive"])).status == 422
    runtime.wait_final(body["transaction_id"])
    # THEN each function reported exactly those in CloudWatch's Embedded Metric Format
    wanted = {
        ("validation-lambda-dev", "TransactionsAccepted"): 1,
        ("validation-lambda-dev", "TransactionsRejected{code=MERCHANT_INACTIVE}"): 1,
        ("fraud-detection-lambda-dev", "TransactionsProcessed"): 1,
        ("fraud-detection-lambda-dev", "FraudStatus{status=APPROVED}"): 1,
    }

    def counted() -> dict[str, dict[str, float]] | None:
        current = metrics()
        return current if all(delta(current, f, k) >= n for (f, k), n in wanted.items()) else None

    after = wait_for(counted, 10, what="the metrics of the two transactions")
    assert {key: delta(after, *key) for key in wanted} == wanted
    assert delta(after, "validation-lambda-dev", "Requests") >= 2
