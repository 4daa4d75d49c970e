"""The interfaces the services need, implemented by handlers.adapters (AWS SDK) and by test fakes, and the
error the transaction store raises on a refused conditional write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from card_transactions.handlers.domain.errors import HandlerError
from card_transactions.handlers.domain.records import TransactionRecord


class ConditionFailed(HandlerError):
    """A conditional write was refused. ``existing`` is the stored record when the write returned it."""

    def __init__(self, operation: str, existing: TransactionRecord | None = None) -> None:
        super().__init__(f"{operation}: condition failed")
        self.operation = operation
        self.existing = existing


@dataclass(frozen=True)
class StalePending:
    """An entry of the sparse pending index: the transaction and the message stored with it."""

    transaction_id: str
    pending_since_ms: int
    message: str | None


class MerchantSource(Protocol):
    def get(self, merchant_id: str) -> Mapping[str, Any] | None:
        """The merchant's configuration item as stored (``Merchant.from_item`` reads it), or None."""

    def get_many(self, merchant_ids: list[str]) -> Mapping[str, Mapping[str, Any]]:
        """The items of the merchants that exist, by id; DependencyError unless every key was read."""


class ApiKeySource(Protocol):
    def get(self, key_id: str) -> Mapping[str, Any] | None:
        """The API key table's item of ``key_id`` (``handlers.domain.api_keys``), or None."""


class TransactionStore(Protocol):
    def put_pending(self, item: Mapping[str, Any]) -> None:
        """Create the record unless the key exists; raises ConditionFailed(existing=stored record)."""

    def get(self, transaction_id: str, *, consistent: bool = True) -> TransactionRecord | None: ...

    def finalize(self, fields: Mapping[str, Any], payload_hash: str) -> None:
        """Write the final fraud status unless the record is final already (or pending for another payload);
        raises ConditionFailed(existing=stored record)."""

    def mark_failed(
        self, transaction_id: str, fields: Mapping[str, Any], if_absent: Mapping[str, Any]
    ) -> None:
        """Set status FAILED unless the record is final; raises ConditionFailed(existing=stored record)."""

    def mark_retries_exhausted(
        self, transaction_id: str, payload_hash: str, fields: Mapping[str, Any], if_absent: Mapping[str, Any]
    ) -> None:
        """Keep the record pending (created from ``if_absent`` when missing) with ``fields`` set, unless it
        is final or pending for another payload; raises ConditionFailed(existing=stored record)."""

    def count_recent(self, merchant_id: str, from_ms: int, to_ms: int, limit: int) -> int:
        """Transactions of the merchant with from_ms <= received_epoch_ms <= to_ms; stops at limit."""


class PendingIndex(Protocol):
    def stale(self, shard: int, pending_before_ms: int, limit: int) -> Sequence[StalePending]:
        """Pending records of ``shard`` whose ``pending_since_ms`` <= ``pending_before_ms``, oldest first."""

    def touch(self, transaction_id: str, seen_since_ms: int, now_ms: int) -> bool:
        """Move a still-pending record's ``pending_since_ms`` from ``seen_since_ms`` to ``now_ms`` and
        remove its ``failure_reason``: a change the table's stream puts on the transactions queue again.
        False when it is no longer pending (or was touched by someone else); raises DependencyError."""
