"""Queue message format, stored transaction records and the public view of a record."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from card_transactions.handlers.domain.errors import InvalidMessage, RequestRefused
from card_transactions.handlers.domain.fraud import FraudStatus
from card_transactions.handlers.domain.transaction import Transaction, format_amount, validate_transaction

MESSAGE_VERSION = 1
STREAM_STRING = "S"  # the type of a string attribute value, as the stream shows an item


class ProcessingStatus(StrEnum):
    """The statuses of a stored transaction besides the fraud verdicts (``FraudStatus``)."""

    PENDING_FRAUD_CHECK = "PENDING_FRAUD_CHECK"  # accepted, queued, not scored yet
    FAILED = "FAILED"  # its message was dead-lettered


Status = FraudStatus | ProcessingStatus
STATUSES: tuple[Status, ...] = (ProcessingStatus.PENDING_FRAUD_CHECK, *FraudStatus, ProcessingStatus.FAILED)


# The sparse index of pending records (``PENDING_INDEX`` in ``settings.system``): these attributes exist
# only while a record is pending, so the reconciler queries pending records, never the whole table. The
# index's partition key is spread over ``PENDING_SHARDS`` values so that no single key takes every pending
# write.
PENDING_SHARDS = 16
RECONCILE_FIELDS = ("pending_shard", "pending_since_ms", "message")


def enqueue_pattern() -> dict[str, Any]:
    """The table's stream records that put a transaction on the queue, as an EventBridge pattern: a
    committed pending record carrying its ``message`` and no ``failure_reason``. That is the validation
    function's put (INSERT) and the reconciler's touch (MODIFY, which removes ``failure_reason``); not the
    retries-exhausted mark (which sets it), nor a verdict or FAILED (the status changes)."""
    return {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "NewImage": {
                "status": {STREAM_STRING: [ProcessingStatus.PENDING_FRAUD_CHECK.value]},
                "message": {STREAM_STRING: [{"exists": True}]},
                "failure_reason": {STREAM_STRING: [{"exists": False}]},
            }
        },
    }


def pending_shard(transaction_id: str) -> int:
    """The sparse index's partition (stable across processes, unlike ``hash``)."""
    return zlib.crc32(transaction_id.encode("utf-8")) % PENDING_SHARDS


def parse_status(value: object) -> Status:
    for status in STATUSES:
        if status == value:
            return status
    raise ValueError(f"unknown transaction status {value!r}")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def message_data(body: str) -> Any:
    """The decoded JSON of a queue message body, which comes in two forms: the stored ``message``
    attribute as the table's stream shows it, ``{"S": "<message JSON>"}`` (what the enqueue rule sends),
    or the bare message JSON (queued by an earlier release, or a dead letter sent back to the queue by
    hand).
    Raises ValueError when the body or the wrapped message is not JSON, InvalidMessage when the wrapper
    is malformed (more members than ``S``, or ``S`` not a string)."""
    data = json.loads(body, parse_float=Decimal)
    if isinstance(data, dict) and STREAM_STRING in data:
        wrapped = data[STREAM_STRING]
        if len(data) != 1 or not isinstance(wrapped, str):
            raise InvalidMessage('a wrapped message must be {"S": "<message JSON>"}')
        data = json.loads(wrapped, parse_float=Decimal)
    return data


@dataclass(frozen=True)
class TransactionMessage:
    """A transaction's message (JSON, amounts as strings, version 1): stored with its pending record as
    ``message``, whose committed write the table's stream puts on the transactions queue.

    It carries no merchant data: the consumer reads the merchant's configuration itself, so a message
    cannot choose the name or thresholds it is scored with. (A ``merchant`` member written by earlier
    releases is ignored.)"""

    transaction: Transaction
    payload_hash: str
    received_at: str
    received_epoch_ms: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MESSAGE_VERSION,
                "transaction": self.transaction.canonical(),
                "payload_hash": self.payload_hash,
                "received_at": self.received_at,
                "received_epoch_ms": self.received_epoch_ms,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, body: str) -> TransactionMessage:
        """Parse and re-validate a queue message (either body form, ``message_data``). Raises
        InvalidMessage (a poison message)."""
        try:
            data = message_data(body)
            if not isinstance(data, dict) or data.get("version") != MESSAGE_VERSION:
                raise InvalidMessage("unsupported message version")
            raw = data["transaction"]
            if not isinstance(raw, dict) or not isinstance(raw.get("amount"), str):
                raise InvalidMessage("transaction must be an object with a string amount")
            transaction = validate_transaction({**raw, "amount": Decimal(raw["amount"])})
            payload_hash, received_at, received_ms = (
                data["payload_hash"],
                data["received_at"],
                data["received_epoch_ms"],
            )
            if payload_hash != transaction.payload_hash():
                raise InvalidMessage("payload_hash does not match the transaction")
            if (
                not isinstance(received_at, str)
                or isinstance(received_ms, bool)
                or not isinstance(received_ms, int)
            ):
                raise InvalidMessage("received_at/received_epoch_ms are malformed")
        except InvalidMessage:
            raise
        except (ValueError, KeyError, TypeError, ArithmeticError, RequestRefused, RecursionError) as exc:
            raise InvalidMessage(f"unparseable transaction message: {type(exc).__name__}") from None
        return cls(transaction, payload_hash, received_at, received_ms)

    @staticmethod
    def merchant_id_of(body: str) -> str | None:
        """The merchant a message body names, without validating it (None when it cannot tell)."""
        try:
            merchant_id = message_data(body)["transaction"]["merchant_id"]
        except (InvalidMessage, ValueError, KeyError, TypeError, RecursionError):
            return None
        return merchant_id if isinstance(merchant_id, str) else None

    def record_fields(self) -> dict[str, Any]:
        """The transaction attributes of the stored record (amount as Decimal -> DynamoDB N)."""
        fields: dict[str, Any] = {
            "transaction_id": self.transaction.transaction_id,
            "merchant_id": self.transaction.merchant_id,
            "amount": self.transaction.amount.quantize(Decimal("0.01")),
            "currency": self.transaction.currency,
            "payload_hash": self.payload_hash,
            "received_at": self.received_at,
            "received_epoch_ms": self.received_epoch_ms,
        }
        if self.transaction.metadata:
            fields["metadata"] = dict(self.transaction.metadata)
        return fields

    def reconcile_fields(self, pending_since_ms: int) -> dict[str, Any]:
        """What the reconciler needs to re-enqueue the transaction while it is pending: its place in the
        sparse index and this message (the stored payload)."""
        return {
            "pending_shard": pending_shard(self.transaction.transaction_id),
            "pending_since_ms": pending_since_ms,
            "message": self.to_json(),
        }

    def pending_record(self) -> dict[str, Any]:
        return {
            **self.record_fields(),
            **self.reconcile_fields(self.received_epoch_ms),
            "status": ProcessingStatus.PENDING_FRAUD_CHECK.value,
            "fraud_score": None,
            "reasons": [],
        }


@dataclass(frozen=True)
class TransactionRecord:
    """A stored transaction (an item of the processed-transactions table), as the adapter reads it."""

    transaction_id: str
    status: Status
    merchant_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    metadata: Mapping[str, str] | None = None
    payload_hash: str | None = None
    received_at: str | None = None
    received_epoch_ms: int | None = None
    fraud_score: int | None = None
    reasons: tuple[str, ...] = ()
    processed_at: str | None = None
    failure_reason: str | None = None
    receive_count: int | None = None
    message: str | None = None  # the queue message, kept while pending (sparse index)
    retries_exhausted_at: str | None = None  # its message was dead-lettered; it waits for the reconciler

    @classmethod
    def from_attributes(cls, item: Mapping[str, Any]) -> TransactionRecord:
        """From a deserialised item (numbers as Decimal). Raises ValueError on a malformed one."""
        try:
            return cls(
                transaction_id=str(item["transaction_id"]),
                status=parse_status(item.get("status")),
                merchant_id=_optional(item, "merchant_id", str),
                amount=_optional(item, "amount", Decimal),
                currency=_optional(item, "currency", str),
                metadata={str(k): str(v) for k, v in item["metadata"].items()}
                if item.get("metadata")
                else None,
                payload_hash=_optional(item, "payload_hash", str),
                received_at=_optional(item, "received_at", str),
                received_epoch_ms=_optional(item, "received_epoch_ms", int),
                fraud_score=_optional(item, "fraud_score", int),
                reasons=tuple(str(r) for r in item.get("reasons") or ()),
                processed_at=_optional(item, "processed_at", str),
                failure_reason=_optional(item, "failure_reason", str),
                receive_count=_optional(item, "receive_count", int),
                message=_optional(item, "message", str),
                retries_exhausted_at=_optional(item, "retries_exhausted_at", str),
            )
        except (KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            raise ValueError(f"malformed transaction record: {type(exc).__name__}: {exc}") from None

    @property
    def pending(self) -> bool:
        return self.status is ProcessingStatus.PENDING_FRAUD_CHECK


def _optional(item: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    value = item.get(name)
    return None if value is None else kind(value)


PUBLIC_FIELDS = (
    "transaction_id",
    "merchant_id",
    "amount",
    "currency",
    "metadata",
    "status",
    "fraud_score",
    "reasons",
    "received_at",
    "processed_at",
    "failure_reason",
)
ALWAYS_SHOWN = ("status", "fraud_score", "processed_at")  # null until known


def public_view(record: TransactionRecord) -> dict[str, Any]:
    """The stored record as returned by GET: amount as a 2-decimal string, no internal fields."""
    view: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        value = getattr(record, name)
        if name == "amount" and value is not None:
            value = format_amount(value)
        elif name == "reasons":
            value = list(value)
        elif name == "metadata" and value is not None:
            value = dict(value)
        if value is not None or name in ALWAYS_SHOWN:
            view[name] = value
    return view
