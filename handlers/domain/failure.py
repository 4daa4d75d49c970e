"""Consumer of the dead-letter queue: record dead messages and summarise them in one alert per kind.

A valid message was dead-lettered because a dependency kept failing, not because of the transaction: its
record stays ``PENDING_FRAUD_CHECK`` with ``retries_exhausted_at`` and its message, in the sparse pending
index, so the reconciler re-enqueues it and it is scored once the dependency is back. Only a message that
cannot be processed at all (invalid or unparseable) makes its transaction ``FAILED``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.domain.errors import ConditionFailed, InvalidMessage
from handlers.domain.fraud_alerts import FraudAlerts
from handlers.domain.merchant_directory import MerchantDirectory
from handlers.domain.ports import Notifier, TransactionStore
from handlers.domain.records import ProcessingStatus, TransactionMessage, iso_utc
from handlers.domain.transaction import ID_PATTERN

logger = logging.getLogger(__name__)

MAX_IDS_IN_ALERT = 50


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
    """One line of an alert: identifiers and reason only, no cardholder data. ``final`` entries are
    FAILED transactions; the others wait for the reconciler (retries exhausted)."""

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
        data = json.loads(dead.body or "")
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
        notifier: Notifier,
        clock: Callable[[], datetime],
        merchants: MerchantDirectory,
    ) -> None:
        self._store = store
        self._merchants = merchants
        self._notifier = notifier
        self._clock = clock
        self._fraud_alerts = FraudAlerts(store, notifier, clock)

    def record(self, dead: DeadLetter) -> FailedEntry | None:
        """Keep a valid message's transaction for rescoring, mark an invalid one's FAILED, unless it is final
        already. Returns the alert entry, or None when there is nothing new to report. Raises
        DependencyError (the record is retried)."""
        try:
            message = TransactionMessage.from_json(dead.body or "")
        except InvalidMessage:
            return self._mark_failed(dead)
        if self._merchants.get(message.transaction.merchant_id) is None:
            # The fraud consumer refuses it for good: kept pending, the reconciler would resend it forever.
            return self._mark_failed(dead, FailureReason.MERCHANT_NOT_FOUND)
        return self._keep_for_rescoring(dead, message)

    def _keep_for_rescoring(self, dead: DeadLetter, message: TransactionMessage) -> FailedEntry | None:
        transaction_id = message.transaction.transaction_id
        fields = {
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
        except ConditionFailed as exc:
            existing = exc.existing or self._store.get(transaction_id, consistent=True)
            if (
                existing is not None
                and existing.alert_pending
                and existing.payload_hash == message.payload_hash
            ):
                # Scored, but every publish of its fraud alert failed until the message was dead-lettered.
                self._fraud_alerts.send(existing)
            else:
                logger.info(
                    "dead message for a final or superseded transaction",
                    extra={"transaction_id": transaction_id},
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
            "alert_required": True,
        }
        if_absent = {k: v for k, v in known.items() if k != "transaction_id"}
        if_absent.setdefault("reasons", [])
        try:
            self._store.mark_failed(transaction_id, fields, if_absent)
        except ConditionFailed as exc:
            existing = exc.existing or self._store.get(transaction_id, consistent=True)
            if existing is None:  # deleted in between: nothing to report
                return None
            if existing.status is ProcessingStatus.FAILED and not existing.alert_sent_at:
                # Recorded on an earlier attempt whose alert did not go out: report it again.
                return FailedEntry(
                    dead.message_id,
                    transaction_id,
                    existing.failure_reason or reason,
                    dead.receive_count if existing.receive_count is None else existing.receive_count,
                )
            if existing.alert_pending:
                # Scored, but every publish of its fraud alert failed until the message was dead-lettered:
                # send that alert now (raises DependencyError, so the dead letter is retried until it goes).
                self._fraud_alerts.send(existing)
                return None
            logger.info(
                "dead message for an already final transaction", extra={"transaction_id": transaction_id}
            )
            return None
        return FailedEntry(dead.message_id, transaction_id, reason, dead.receive_count)

    def alert(self, entries: Sequence[FailedEntry]) -> None:
        """One SNS message per kind (FAILED, retries exhausted) for the invocation. Raises DependencyError
        when one cannot be published."""
        waiting = [e for e in entries if not e.final]
        if waiting:
            self._notifier.publish(
                subject=f"{len(waiting)} transaction(s) exhausted their retries; they will be rescored",
                message={
                    "alert_type": "TRANSACTION_RETRIES_EXHAUSTED",
                    "count": len(waiting),
                    "detail": "a dependency kept failing; the reconciler re-enqueues them (docs/runbooks.md)",
                    "transactions": [
                        {"transaction_id": e.transaction_id, "receive_count": e.receive_count}
                        for e in waiting[:MAX_IDS_IN_ALERT]
                    ],
                    "truncated": len(waiting) > MAX_IDS_IN_ALERT,
                },
                attributes={"alert_type": "TRANSACTION_RETRIES_EXHAUSTED"},
            )
        self._alert_failed([e for e in entries if e.final])

    def _alert_failed(self, entries: Sequence[FailedEntry]) -> None:
        if not entries:
            return
        by_reason: dict[str, int] = {}
        for entry in entries:
            by_reason[entry.failure_reason] = by_reason.get(entry.failure_reason, 0) + 1
        message = {
            "alert_type": "TRANSACTION_FAILED",
            "failed_count": len(entries),
            "by_reason": by_reason,
            "transactions": [
                {
                    "transaction_id": e.transaction_id,
                    "failure_reason": e.failure_reason,
                    "receive_count": e.receive_count,
                }
                for e in entries[:MAX_IDS_IN_ALERT]
            ],
            "truncated": len(entries) > MAX_IDS_IN_ALERT,
        }
        self._notifier.publish(
            subject=f"{len(entries)} transaction(s) failed processing",
            message=message,
            attributes={"alert_type": "TRANSACTION_FAILED"},
        )
        sent_at = iso_utc(self._clock())
        for entry in entries:
            try:
                self._store.mark_alert_sent(entry.transaction_id, sent_at)
            except Exception:
                logger.warning(
                    "could not record alert_sent_at", extra={"transaction_id": entry.transaction_id}
                )
