"""Merchant configuration: an item of the merchant-config table.

Item fields: merchant_id (S, key), name (S), active (BOOL), max_transaction_amount (N), and optional
per-merchant fraud overrides fraud_high_amount (N), fraud_review_threshold (N), fraud_suspected_threshold (N),
and ``clients`` (SS or L of S): the API clients (``API_CLIENTS``) that may submit for the merchant and
read its transactions; without it, any client may unless binding is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from card_transactions.handlers.domain.errors import AmountExceedsMerchantLimit, MerchantInactive
from card_transactions.handlers.domain.fraud import MERCHANT_OVERRIDE_FIELDS, FraudThresholds

CLIENTS_ATTRIBUTE = "clients"
# One message for every merchant refusal: the error code says which check failed, nothing else does
# (no limit, no hint whether an id exists beyond MERCHANT_NOT_FOUND itself).
REFUSED_MESSAGE = "The merchant cannot take this transaction"
REFUSED_MERCHANT = {"field": "merchant_id", "message": "cannot take transactions"}


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    name: str
    active: bool
    max_transaction_amount: Decimal
    overrides: Mapping[str, Any] = field(default_factory=dict)
    clients: frozenset[str] = frozenset()

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Merchant:
        """Build from a deserialised DynamoDB item. Raises ValueError when the item is malformed."""
        try:
            limit = Decimal(str(item["max_transaction_amount"]))
        except (KeyError, InvalidOperation, ValueError) as exc:
            raise ValueError("merchant item needs a numeric max_transaction_amount") from exc
        if not limit.is_finite():
            raise ValueError("merchant max_transaction_amount must be finite")
        name = item.get("name")
        if not isinstance(name, str):
            raise ValueError("merchant item needs a string name")
        overrides = {k: item[k] for k in MERCHANT_OVERRIDE_FIELDS if item.get(k) is not None}
        FraudThresholds().with_overrides(overrides)  # a bad override is a malformed item
        clients = item.get(CLIENTS_ATTRIBUTE) or ()
        if not isinstance(clients, set | list | tuple | frozenset) or not all(
            isinstance(c, str) for c in clients
        ):
            raise ValueError(f"merchant {CLIENTS_ATTRIBUTE} must be a set or list of client names")
        return cls(
            merchant_id=str(item.get("merchant_id", "")),
            name=name,
            active=item.get("active") is True,
            max_transaction_amount=limit,
            overrides=overrides,
            clients=frozenset(clients),
        )

    def permits(self, client: str | None, *, binding_required: bool) -> bool:
        """May ``client`` (None: a key no client owns) submit for this merchant and read its
        transactions? A merchant naming no client admits any valid key, unless binding is required."""
        if not self.clients:
            return not binding_required
        return client in self.clients

    def authorise(self, amount: Decimal) -> None:
        """Raise MerchantInactive / AmountExceedsMerchantLimit when this merchant may not take the amount."""
        if not self.active:
            raise MerchantInactive(REFUSED_MESSAGE, [REFUSED_MERCHANT])
        if amount > self.max_transaction_amount:
            raise AmountExceedsMerchantLimit(
                REFUSED_MESSAGE, [{"field": "amount", "message": "is above the merchant's limit"}]
            )
