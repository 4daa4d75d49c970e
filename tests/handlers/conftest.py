"""Shared fixtures of the handler tests: fake credentials, a moto backend with every table/queue/topic the
stack creates, and helpers to drive the handlers. The transactions queue is fed as the stack feeds it:
from the transactions table's change stream, each record that passes the enqueue pattern puts its
stored ``message`` on the queue. Alerts are what the stack's alert pipes make of the same stream (their
filters and templates, ``local.pipe_rules``). Nothing here reaches AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from card_transactions.handlers import failed_transaction, fraud_detection, reconciler, validation
from card_transactions.handlers.adapters.aws import make_client
from card_transactions.handlers.adapters.dynamodb import from_item, to_item
from card_transactions.handlers.domain.records import enqueue_pattern
from card_transactions.settings.system import MERCHANT_INDEX, PENDING_INDEX
from card_transactions.stacks.constructs.alert_pipes import EVENT_DETAIL_TYPE, EVENT_SOURCE, alert_routes
from local.lambda_context import LambdaContext
from local.pipe_rules import matches, select, transform
from tests.events import api_get, api_post, dlq_batch, sqs_batch

REGION = "us-east-2"
MERCHANT_TABLE = "merchant-config-test"
TRANSACTION_TABLE = "processed-transactions-test"
API_KEY_TABLE = "api-keys-test"
ACCOUNT = "123456789012"  # moto's default account
ENQUEUE_FILTER = json.dumps(enqueue_pattern())  # what the stack's pipe filter and bus rule carry
ENQUEUE_INPUT_PATH = "$.dynamodb.NewImage.message"  # the rule's $.detail.dynamodb.NewImage.message


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; no profile or endpoint from the developer's shell can leak in."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "TransactionProcessingTest")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off sleeps are recorded instead of slept (keeps throttling tests fast)."""
    sleeps: list[float] = []

    class _Time:
        @staticmethod
        def sleep(seconds: float) -> None:
            sleeps.append(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", _Time)
    return sleeps


@dataclass
class Backend:
    dynamodb: Any
    sqs: Any
    sns: Any
    queue_url: str
    dlq_url: str
    alerts_url: str
    topic_arn: str
    stream_positions: dict[str, int] = field(default_factory=dict)
    context: LambdaContext = field(
        default_factory=lambda: LambdaContext.for_invocation(
            "test-function", memory_mb=256, timeout_seconds=30
        )
    )

    # --- data --------------------------------------------------------------------------------------------
    def put_merchant(
        self,
        merchant_id: str = "merchant_001",
        name: str = "Acme Stores",
        active: bool = True,
        max_transaction_amount: str = "10000",
        **extra: Any,
    ) -> None:
        item = {
            "merchant_id": merchant_id,
            "name": name,
            "active": active,
            "max_transaction_amount": Decimal(max_transaction_amount),
            **extra,
        }
        self.dynamodb.put_item(TableName=MERCHANT_TABLE, Item=to_item(item))

    def delete_merchant(self, merchant_id: str) -> None:
        self.dynamodb.delete_item(TableName=MERCHANT_TABLE, Key={"merchant_id": {"S": merchant_id}})

    def record(self, transaction_id: str) -> dict[str, Any] | None:
        item = self.dynamodb.get_item(
            TableName=TRANSACTION_TABLE, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def records(self) -> list[dict[str, Any]]:
        return [from_item(i) for i in self.dynamodb.scan(TableName=TRANSACTION_TABLE)["Items"]]

    def drain(self, url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                return messages
            for message in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(got)

    def queued(self) -> list[str]:
        """Bodies waiting on the transactions queue (consumed), after the stream's enqueue."""
        self.enqueue()
        return [m["Body"] for m in self.drain(self.queue_url)]

    def enqueue(self) -> list[dict[str, Any]]:
        """What the stack's pipe and enqueue rule do with the stream records since the last call: each one
        that passes the enqueue pattern puts its stored message, as the stream shows it, on the transactions
        queue. Returns those records."""
        passed = [r for r in self.stream("enqueue") if matches([ENQUEUE_FILTER], r)]
        for record in passed:
            body = json.dumps(select(record, ENQUEUE_INPUT_PATH))
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        return passed

    def published(self) -> list[dict[str, Any]]:
        """What reached the topic's test subscription directly (no function publishes: always empty)."""
        return self.drain(self.alerts_url)

    def stream(self, reader: str = "alerts") -> list[dict[str, Any]]:
        """The transactions table's change-stream records since ``reader``'s last call."""
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends[ACCOUNT][REGION].get_table(TRANSACTION_TABLE).stream_shard
        assert shard is not None, "the transactions table streams"
        # as the Streams API returns them (JSON; the timestamp as text)
        fresh = shard.items[self.stream_positions.get(reader, 0) :]
        records = [json.loads(json.dumps(item.to_json(), default=str)) for item in fresh]
        self.stream_positions[reader] = self.stream_positions.get(reader, 0) + len(records)
        return records

    def alerts(self, *, alert_on_review_required: bool = False) -> list[dict[str, Any]]:
        """The alerts the stack publishes for the stream records since the last call (parsed): the pipe's
        filters, its event on the alert bus, each rule's pattern and input transformer."""
        routes = alert_routes(alert_on_review_required)
        out = []
        for record in self.stream():
            if not matches([route.record_filter for route in routes], record):
                continue
            event = {"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": record}
            for route in routes:
                if matches([route.event_pattern], event):
                    message = route.message
                    out.append(json.loads(transform(message.input_paths, message.template, event)))
        return out

    # --- handlers ----------------------------------------------------------------------------------------
    def post(self, body: Any = None, **overrides: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        response = validation.handler(api_post(body, **overrides), self.context)
        return response["statusCode"], json.loads(response["body"]), response["headers"]

    def get(self, transaction_id: str, **overrides: Any) -> tuple[int, dict[str, Any]]:
        response = validation.handler(api_get(transaction_id, **overrides), self.context)
        return response["statusCode"], json.loads(response["body"])

    def fraud(self, bodies: list[str], receive_count: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
        event = sqs_batch(bodies, receive_count)
        return event, fraud_detection.handler(event, self.context)

    def failed(self, bodies: list[str], receive_count: int = 4) -> tuple[dict[str, Any], dict[str, Any]]:
        event = dlq_batch(bodies, receive_count)
        return event, failed_transaction.handler(event, self.context)

    def reconcile(self) -> dict[str, Any]:
        return reconciler.handler({"source": "scheduler"}, self.context)

    def pump(self) -> dict[str, Any]:
        """Deliver everything on the transactions queue to the fraud handler (one batch)."""
        return self.fraud(self.queued())[1]


def _reset_wiring() -> None:
    validation.reset()
    fraud_detection.reset()
    failed_transaction.reset()
    reconciler.reset()


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """GIVEN the stack's resources in moto and the handlers' environment pointing at them."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        dynamodb.create_table(
            TableName=MERCHANT_TABLE,
            KeySchema=[{"AttributeName": "merchant_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "merchant_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName=API_KEY_TABLE,
            KeySchema=[{"AttributeName": "key_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName=TRANSACTION_TABLE,
            KeySchema=[{"AttributeName": "transaction_id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "transaction_id", "AttributeType": "S"},
                {"AttributeName": "merchant_id", "AttributeType": "S"},
                {"AttributeName": "received_epoch_ms", "AttributeType": "N"},
                {"AttributeName": "pending_shard", "AttributeType": "N"},
                {"AttributeName": "pending_since_ms", "AttributeType": "N"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": PENDING_INDEX,
                    "KeySchema": [
                        {"AttributeName": "pending_shard", "KeyType": "HASH"},
                        {"AttributeName": "pending_since_ms", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["message"]},
                },
                {
                    "IndexName": MERCHANT_INDEX,
                    "KeySchema": [
                        {"AttributeName": "merchant_id", "KeyType": "HASH"},
                        {"AttributeName": "received_epoch_ms", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        dlq_url = sqs.create_queue(QueueName="transaction-dlq-test")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName="transaction-queue-test",
            Attributes={
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
            },
        )["QueueUrl"]
        alerts_url = sqs.create_queue(QueueName="alerts-subscriber-test")["QueueUrl"]
        alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        topic_arn = sns.create_topic(Name="fraud-alerts-test")["TopicArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=alerts_arn)

        monkeypatch.setenv("MERCHANT_TABLE_NAME", MERCHANT_TABLE)
        monkeypatch.setenv("TRANSACTION_TABLE_NAME", TRANSACTION_TABLE)
        monkeypatch.setenv("API_KEY_TABLE_NAME", API_KEY_TABLE)
        _reset_wiring()
        try:
            yield Backend(dynamodb, sqs, sns, queue_url, dlq_url, alerts_url, topic_arn)
        finally:
            _reset_wiring()


@pytest.fixture
def aws_calls(aws: Backend, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every AWS request the handlers make from now on, as (service, operation): each client a handler
    creates is counted, whatever its service (the handlers are wired afresh)."""
    from card_transactions.handlers.adapters import aws as adapters

    calls: list[tuple[str, str]] = []
    real = adapters.make_client

    def counting(service: str, session: Any = None) -> Any:
        client = real(service, session)
        client.meta.events.register("before-call", lambda model, **_: calls.append((service, model.name)))
        return client

    monkeypatch.setattr(adapters, "make_client", counting)
    _reset_wiring()
    return calls


@pytest.fixture
def failing_client(no_retry_sleep: list[float]) -> Any:
    """Factory of clients whose operation fails `times` times before reaching moto (retry sleeps skipped)."""
    return _failing_client


def _failing_client(
    service: str, operation: str, code: str, times: int, status: int = 400
) -> tuple[Any, list[int]]:
    """A real client (same config as the handlers') whose `operation` answers `code` for the first
    `times` attempts, before moto sees them: exercises botocore's own retry logic.
    Returns (client, attempt counter)."""
    client = make_client(service)
    attempts = [0]
    protocol_json = client.meta.service_model.protocol == "json"
    prefix = {"dynamodb": "com.amazonaws.dynamodb.v20120810#", "sqs": "com.amazonaws.sqs#"}.get(service, "")

    def _fail(request: Any, **_: Any) -> AWSResponse | None:
        attempts[0] += 1
        if attempts[0] > times:
            return None
        if protocol_json:
            body = json.dumps({"__type": f"{prefix}{code}", "message": "injected"})
            headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message>"
                "</Error><RequestId>1</RequestId></ErrorResponse>"
            )
            headers = {"Content-Type": "text/xml"}
        # Every before-send handler runs (the first response wins): point the request somewhere moto does not
        # serve so the failed attempt has no side effect in the backend.
        request.url = "https://failure-injected.invalid/"
        raw = _RawBody(body.encode())
        return AWSResponse(request.url, status, headers, raw)

    client.meta.events.register_first(
        f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}", _fail
    )
    return client, attempts


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def esm_deliver(backend: Backend, url: str, handler: Any) -> dict[str, Any] | None:
    """Act like the Lambda event source mapping: receive a batch from `url`, invoke `handler`, delete the
    records that did not fail. Returns the handler's response (None when the queue was empty)."""
    got = backend.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])
    if not got:
        return None
    arn = backend.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in got
        ]
    }
    response = handler(event, backend.context)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    for m in got:
        if m["MessageId"] not in failed:
            backend.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return response


@pytest.fixture
def deliver() -> Any:
    return esm_deliver
