"""The transaction model: request-body decoding, validation against the one JSON Schema, canonical form."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from card_transactions.handlers.domain.card_numbers import refuse_card_numbers
from card_transactions.handlers.domain.errors import InvalidJson, PayloadTooLarge, ValidationFailed
from card_transactions.handlers.domain.schema import load_transaction_schema

MAX_AMOUNT = Decimal(1_000_000_000)
CENT = Decimal("0.01")
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")
METADATA_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_DETAILS = 20


@dataclass(frozen=True)
class Transaction:
    transaction_id: str
    merchant_id: str
    amount: Decimal
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    def canonical(self) -> dict[str, Any]:
        """JSON-ready canonical form: amount normalised to 2 decimal places as a string (1500 == 1500.00)."""
        payload: dict[str, Any] = {
            "transaction_id": self.transaction_id,
            "merchant_id": self.merchant_id,
            "amount": format_amount(self.amount),
            "currency": self.currency,
        }
        if self.metadata:
            payload["metadata"] = dict(sorted(self.metadata.items()))
        return payload

    def payload_hash(self) -> str:
        """sha256 of the canonical validated payload: the idempotency fingerprint."""
        canonical = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


# --- request body -------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("duplicate key in JSON object")
        result[key] = value
    return result


def decode_body(body: str | bytes | None, *, is_base64: bool, max_bytes: int) -> Any:
    """Decode an API Gateway proxy body into JSON (numbers as Decimal). Raises PayloadTooLarge/InvalidJson."""
    if body is None or body == "":
        raise InvalidJson("Request body is required")
    if not isinstance(body, str | bytes):
        raise InvalidJson("Request body must be a JSON document")
    # A cheap bound before any decoding: base64 grows 4/3, UTF-8 up to 4 bytes per character.
    if len(body) > max_bytes * 4:
        raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
    raw: bytes
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidJson("Request body is not valid base64") from exc
    elif isinstance(body, str):
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidJson("Request body is not valid UTF-8") from exc
    else:
        raw = body
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidJson("Request body is not valid JSON") from exc


# --- validation -----------------------------------------------------------------------------------------


@cache
def _validators() -> tuple[Any, dict[str, Any]]:
    """fastjsonschema validators, compiled once per container: the whole body and each property."""
    import fastjsonschema

    schema = load_transaction_schema()
    # The amount arrives as a Decimal, and a Decimal compared with the schema's float bounds is inexact
    # (Decimal("0.01") < 0.01 as a float): its range is checked exactly by _domain_field_details.
    for bound in ("minimum", "maximum"):
        del schema["properties"]["amount"][bound]
    draft = schema["$schema"]
    whole = fastjsonschema.compile(schema)
    per_property = {
        name: fastjsonschema.compile({"$schema": draft, **sub}) for name, sub in schema["properties"].items()
    }
    return whole, per_property


def _field_message(name: str, exc: Exception) -> str:
    rule = getattr(exc, "rule", "")
    if name == "metadata":
        return {
            "type": "must be an object",
            "maxProperties": "must have at most 10 entries",
            "additionalProperties": "keys must be 1-64 characters of [A-Za-z0-9_.-]",
        }.get(rule, "values must be strings of at most 256 characters")
    message = str(getattr(exc, "message", exc))
    return message[len("data ") :] if message.startswith("data ") else message


def _schema_details(payload: Any) -> list[dict[str, str]]:
    if not isinstance(payload, dict):
        return [{"field": "", "message": "body must be a JSON object"}]
    schema = load_transaction_schema()
    _, per_property = _validators()
    details: list[dict[str, str]] = []
    for name in schema["required"]:
        if name not in payload:
            details.append({"field": name, "message": "is required"})
    for name in payload:
        if name not in per_property:
            details.append({"field": str(name)[:64], "message": "is not an allowed field"})
    for name, validate in per_property.items():
        if name in payload:
            try:
                validate(payload[name])
            except Exception as exc:
                details.append({"field": name, "message": _field_message(name, exc)})
            else:
                details.extend(_domain_field_details(name, payload[name]))
    return details


def _domain_field_details(name: str, value: Any) -> list[dict[str, str]]:
    """Checks the schema cannot express (or that must not rely on regex `$` semantics), for a field that
    already passed its schema."""
    if name in ("transaction_id", "merchant_id") and not ID_PATTERN.fullmatch(value):
        return [{"field": name, "message": "must be 1-64 characters of [A-Za-z0-9_-]"}]
    if name == "currency" and not CURRENCY_PATTERN.fullmatch(value):
        return [{"field": name, "message": "must be an ISO 4217 code of three upper-case letters"}]
    if name == "amount":
        try:
            amount = value if isinstance(value, Decimal) else Decimal(value)
            ok = amount.is_finite() and 0 < amount <= MAX_AMOUNT and amount == amount.quantize(CENT)
        except (InvalidOperation, TypeError, ValueError):
            ok = False
        if not ok:
            return [{"field": name, "message": "must be > 0 and <= 1000000000 with at most 2 decimal places"}]
    if name == "metadata" and any(not METADATA_KEY_PATTERN.fullmatch(key) for key in value):
        return [{"field": name, "message": "keys must be 1-64 characters of [A-Za-z0-9_.-]"}]
    return []


def validate_transaction(payload: Any) -> Transaction:
    """Validate decoded JSON against the schema and the domain rules; ValidationFailed names each field.

    Card numbers are looked for first, in every field and field name, so no later message can repeat one
    (CardNumberNotAllowed)."""
    refuse_card_numbers(payload)
    whole, _ = _validators()
    try:
        whole(payload)
    except Exception:
        details = _schema_details(payload) or [{"field": "", "message": "does not match the schema"}]
        raise ValidationFailed("Request body failed validation", details[:MAX_DETAILS]) from None
    details = [d for name in payload for d in _domain_field_details(name, payload[name])]
    if details:
        raise ValidationFailed("Request body failed validation", details)
    amount = payload["amount"]
    return Transaction(
        transaction_id=payload["transaction_id"],
        merchant_id=payload["merchant_id"],
        amount=amount if isinstance(amount, Decimal) else Decimal(amount),
        currency=payload["currency"],
        metadata=dict(payload.get("metadata") or {}),
    )
