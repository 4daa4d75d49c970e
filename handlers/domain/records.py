"""Queue message format, stored transaction records, the public view of a record, failure summaries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from handlers.domain.errors import InvalidMessage, ValidationFailed
from handlers.domain.merchant import MerchantSnapshot
from handlers.domain.transaction import Transaction, format_amount, validate_transaction

MESSAGE_VERSION = 1
STATUS_PENDING = "PENDING_FRAUD_CHECK"
STATUS_FAILED = "FAILED"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class TransactionMessage:
    """Body of a message on the transactions queue (JSON, amounts as strings, version 1)."""

    transaction: Transaction
    merchant: MerchantSnapshot
    payload_hash: str
    received_at: str
    received_epoch_ms: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": MESSAGE_VERSION,
                "transaction": self.transaction.canonical(),
                "merchant": self.merchant.to_dict(),
                "payload_hash": self.payload_hash,
                "received_at": self.received_at,
                "received_epoch_ms": self.received_epoch_ms,
            },
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, body: str) -> TransactionMessage:
        """Parse and re-validate a queue message. Raises InvalidMessage (a poison message)."""
        try:
            data = json.loads(body, parse_float=Decimal)
            if not isinstance(data, dict) or data.get("version") != MESSAGE_VERSION:
                raise InvalidMessage("unsupported message version")
            raw = data["transaction"]
            if not isinstance(raw, dict) or not isinstance(raw.get("amount"), str):
                raise InvalidMessage("transaction must be an object with a string amount")
            transaction = validate_transaction({**raw, "amount": Decimal(raw["amount"])})
            merchant = MerchantSnapshot.from_dict(data["merchant"])
            if merchant.merchant_id != transaction.merchant_id:
                raise InvalidMessage("merchant snapshot does not match the transaction")
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
        except (ValueError, KeyError, TypeError, ArithmeticError, ValidationFailed, RecursionError) as exc:
            raise InvalidMessage(f"unparseable transaction message: {type(exc).__name__}") from None
        return cls(transaction, merchant, payload_hash, received_at, received_ms)

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

    def pending_record(self) -> dict[str, Any]:
        return {**self.record_fields(), "status": STATUS_PENDING, "fraud_score": None, "reasons": []}


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


def public_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record as returned by GET: amount as a 2-decimal string, score as an int, no internals."""
    view: dict[str, Any] = {}
    for name in PUBLIC_FIELDS:
        value = item.get(name)
        if name == "amount" and isinstance(value, Decimal):
            value = format_amount(value)
        elif name == "fraud_score" and isinstance(value, Decimal):
            value = int(value)
        elif name == "reasons":
            value = list(value or [])
        if value is not None or name in ("status", "fraud_score", "processed_at"):
            view[name] = value
    return view


def is_final(item: Mapping[str, Any]) -> bool:
    return item.get("status") not in (None, STATUS_PENDING)
