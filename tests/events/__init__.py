"""Real-shaped sample events (API Gateway REST proxy, SQS batch, DLQ batch) and builders to customise them."""

from __future__ import annotations

import copy
import json
import re
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).parent


@cache
def _raw(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def load_event(name: str) -> dict[str, Any]:
    """A fresh deep copy of tests/events/<name>.json."""
    return copy.deepcopy(_raw(name))


def transaction_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": "txn_123456",
        "merchant_id": "merchant_001",
        "amount": Decimal("1500.00"),
        "currency": "USD",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


_MARK = "\u0000dec:"


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}"
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def to_json(body: Any) -> str:
    """JSON text with Decimals written as exact JSON numbers (1500.00 stays 1500.00)."""
    if isinstance(body, str):
        return body
    text = json.dumps(_exact(body))
    return re.sub(r'"\\u0000dec:([^"]*)"', r"\1", text)


def api_post(payload: Any = None, **overrides: Any) -> dict[str, Any]:
    """POST /transaction proxy event; `payload` may be a dict (serialised exactly) or a str; None means the
    default sample transaction. Any event field (including `body`) can be overridden."""
    event = load_event("apigw_post_transaction")
    event["body"] = to_json(transaction_body() if payload is None else payload)
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event.update(overrides)
    return event


def api_get(transaction_id: str = "txn_123456", **overrides: Any) -> dict[str, Any]:
    event = load_event("apigw_get_transaction")
    event["path"] = f"/transaction/{transaction_id}"
    event["pathParameters"] = {"transaction_id": transaction_id}
    event["requestContext"]["path"] = f"/prod/transaction/{transaction_id}"
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event.update(overrides)
    return event


def _batch(template: str, bodies: list[str], receive_count: int) -> dict[str, Any]:
    record = load_event(template)["Records"][0]
    records = []
    for body in bodies:
        item = copy.deepcopy(record)
        item["messageId"] = str(uuid.uuid4())
        item["body"] = body
        item["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(item)
    return {"Records": records}


def sqs_batch(bodies: list[str], receive_count: int = 1) -> dict[str, Any]:
    """An SQS event from the transactions queue carrying the given message bodies."""
    return _batch("sqs_transactions_batch", bodies, receive_count)


def dlq_batch(bodies: list[str], receive_count: int = 4) -> dict[str, Any]:
    """An SQS event from the dead-letter queue carrying the given message bodies."""
    return _batch("sqs_dlq_batch", bodies, receive_count)


def queue_message(received_epoch_ms: int = 1741083330123, **transaction: Any) -> str:
    """A valid transactions-queue message body, built with the handlers' own message model."""
    from datetime import UTC, datetime

    from card_transactions.handlers.domain.records import TransactionMessage, iso_utc
    from card_transactions.handlers.domain.transaction import validate_transaction

    tx = validate_transaction(transaction_body(**transaction))
    return TransactionMessage(
        transaction=tx,
        payload_hash=tx.payload_hash(),
        received_at=iso_utc(datetime.fromtimestamp(received_epoch_ms / 1000, tz=UTC)),
        received_epoch_ms=received_epoch_ms,
    ).to_json()


def stream_body(message: str) -> str:
    """What the enqueue rule puts on the transactions queue for a stored ``message``: the attribute as the
    table's stream shows it (``input_path`` ``$.detail.dynamodb.NewImage.message``)."""
    return json.dumps({"S": message})
