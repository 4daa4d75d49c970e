"""Consumer of the dead-letter queue: record what became of each dead message.

A valid message was dead-lettered because a dependency kept failing, not because of the transaction: its
record stays ``PENDING_FRAUD_CHECK`` with ``retries_exhausted_at`` and its message, in the sparse pending
index, so the reconciler re-enqueues it and it is scored once the dependency is back. Only a message that
cannot be processed at all (invalid or unparseable) makes its transaction ``FAILED``. Both writes carry
``failure_reason``; the alerts topic hears of them from the table's change stream (docs/handlers.md,
"Alerts").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from card_transactions.handlers.domain.errors import InvalidMessage
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.domain.ports import ConditionFailed, TransactionStore
from card_transactions.handlers.domain.records import (
    ProcessingStatus,
    TransactionMessage,
    iso_utc,
    message_data,
)
from card_transactions.handlers.domain.transaction import ID_PATTERN

logger = logging.getLogger(__name__)


class FailureReason(StrEnum):
    """Why a message was dead-lettered."""

    PROCESSING_RETRIES_EXHAUSTED = "PROCESSING_RETRIES_EXHAUSTED"  # a valid message kept failing: rescored
    MERCHANT_NOT_FOUND = "MERCHANT_NOT_FOUND"  # valid, but its merchant is gone: it can never be scored
    INVALID_MESSAGE = "INVALID_MESSAGE"  # JSON, but not a valid transaction message
    UNPARSEABLE_BODY = "UNPARSEABLE_BODY"  # not even JSON


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str | None
    receive_count: int


@dataclass(frozen=True)
class FailedEntry:
    """What was recorded for a dead message: identifiers and reason only, no cardholder data. ``final``
    entries are FAILED transactions; the others wait for the reconciler (retries exhausted)."""

    message_id: str
    transaction_id: str
    failure_reason: str
    receive_count: int
    final: bool = True


def describe(dead: DeadLetter) -> tuple[str, FailureReason, dict[str, Any]]:
    """(transaction_id, failure_reason, transaction attributes to set when the record does not exist)."""
    try:
        message = TransactionMessage.from_json(dead.body or "")
    except InvalidMessage:
        pass
    else:
        return (
            message.transaction.transaction_id,
            FailureReason.PROCESSING_RETRIES_EXHAUSTED,
            message.record_fields(),
        )
    try:
        data = message_data(dead.body or "")
    except InvalidMessage:
        return f"dlq-{dead.message_id}", FailureReason.INVALID_MESSAGE, {}
    except (ValueError, RecursionError):
        return f"dlq-{dead.message_id}", FailureReason.UNPARSEABLE_BODY, {}
    transaction = data.get("transaction") if isinstance(data, dict) else None
    candidate = transaction.get("transaction_id") if isinstance(transaction, dict) else None
    if isinstance(candidate, str) and ID_PATTERN.fullmatch(candidate):
        return candidate, FailureReason.INVALID_MESSAGE, {}
    return f"dlq-{dead.message_id}", FailureReason.INVALID_MESSAGE, {}


class FailureService:
    def __init__(
        self,
        store: TransactionStore,
        clock: Callable[[], datetime],
        merchants: MerchantDirectory,
    ) -> None:
        self._store = store
        self._merchants = merchants
        self._clock = clock

    def record(self, dead: DeadLetter) -> FailedEntry | None:
        """Keep a valid message's transaction for rescoring, mark an invalid one's FAILED, unless it is final
        already. Returns what was recorded, or None when the transaction was final already. Raises
        DependencyError (the record is retried)."""
        try:
            message = TransactionMessage.from_json(dead.body or "")
        except InvalidMessage:
            return self._mark_failed(dead)
        if self._merchants.get(message.transaction.merchant_id) is None:
            # The fraud consumer refuses it for good: kept pending, the reconciler would re-drive it forever.
            return self._mark_failed(dead, FailureReason.MERCHANT_NOT_FOUND)
        return self._keep_for_rescoring(dead, message)

    def _keep_for_rescoring(self, dead: DeadLetter, message: TransactionMessage) -> FailedEntry | None:
        transaction_id = message.transaction.transaction_id
        fields = {
            "failure_reason": FailureReason.PROCESSING_RETRIES_EXHAUSTED.value,
            "retries_exhausted_at": iso_utc(self._clock()),
            "receive_count": dead.receive_count,
            "message_id": dead.message_id,
            # eligible for the reconciler's next run: pending since it was received
            **message.reconcile_fields(message.received_epoch_ms),
        }
        if_absent = {
            k: v for k, v in message.pending_record().items() if k not in fields and k != "transaction_id"
        }
        try:
            self._store.mark_retries_exhausted(transaction_id, message.payload_hash, fields, if_absent)
        except ConditionFailed:
            logger.info(
                "dead message for a final or superseded transaction", extra={"transaction_id": transaction_id}
            )
            return None
        return FailedEntry(
            dead.message_id,
            transaction_id,
            FailureReason.PROCESSING_RETRIES_EXHAUSTED,
            dead.receive_count,
            final=False,
        )

    def _mark_failed(self, dead: DeadLetter, because: FailureReason | None = None) -> FailedEntry | None:
        transaction_id, reason, known = describe(dead)
        reason = because or reason
        now = iso_utc(self._clock())
        fields = {
            "status": ProcessingStatus.FAILED.value,
            "failure_reason": reason.value,
            "receive_count": dead.receive_count,
            "message_id": dead.message_id,
            "failed_at": now,
            "processed_at": now,
        }
        if_absent = {k: v for k, v in known.items() if k != "transaction_id"}
        if_absent.setdefault("reasons", [])
        try:
            self._store.mark_failed(transaction_id, fields, if_absent)
        except ConditionFailed:
            logger.info(
                "dead message for an already final transaction", extra={"transaction_id": transaction_id}
            )
            return None
        return FailedEntry(dead.message_id, transaction_id, reason, dead.receive_count)
