"""Consumer of the transactions queue: score a message and make the single PENDING -> final transition.

The transition is the whole job: the alerts topic hears of a FRAUD_SUSPECTED (or REVIEW_REQUIRED) verdict
from the table's change stream, never from this service (docs/handlers.md, "Alerts").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from card_transactions.handlers.domain.errors import DependencyError, InvalidMessage
from card_transactions.handlers.domain.fraud import (
    FraudAssessment,
    FraudThresholds,
    ScoringInput,
    VelocityRule,
    assess,
    rules_for,
)
from card_transactions.handlers.domain.merchant import Merchant
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.domain.ports import ConditionFailed, TransactionStore
from card_transactions.handlers.domain.records import Status, TransactionMessage, TransactionRecord, iso_utc

logger = logging.getLogger(__name__)


class ProcessingOutcome(StrEnum):
    """What processing one message did."""

    PROCESSED = "PROCESSED"  # the PENDING -> verdict transition
    DUPLICATE = "DUPLICATE"  # already final: nothing written
    SUPERSEDED = "SUPERSEDED"  # pending for a newer payload, whose own message will finalize it


@dataclass(frozen=True)
class FraudOutcome:
    transaction_id: str
    outcome: ProcessingOutcome
    status: Status | None
    score: int | None
    reasons: tuple[str, ...]


class FraudService:
    def __init__(
        self,
        store: TransactionStore,
        *,
        merchants: MerchantDirectory,
        clock: Callable[[], datetime],
        thresholds: FraudThresholds | None = None,
        velocity: VelocityRule | None = None,
    ) -> None:
        self._store = store
        self._merchants = merchants
        self._clock = clock
        self._thresholds = thresholds or FraudThresholds()
        self._velocity = velocity
        self._rules = rules_for(velocity)

    def prefetch_merchants(self, bodies: Iterable[str]) -> None:
        """Read the merchants of a batch's messages in one request; on failure each record reads its own."""
        merchant_ids = [m for m in map(TransactionMessage.merchant_id_of, bodies) if m is not None]
        try:
            self._merchants.prefetch(merchant_ids)
        except DependencyError as exc:
            logger.warning("merchant batch read failed, reading per record", extra={"reason": str(exc)})

    def _merchant(self, merchant_id: str) -> Merchant:
        """The merchant as configured now: the message's word for it is never taken."""
        merchant = self._merchants.get(merchant_id)
        if merchant is None:
            raise InvalidMessage("the message names a merchant that does not exist")
        return merchant

    def assess(self, message: TransactionMessage) -> FraudAssessment:
        merchant = self._merchant(message.transaction.merchant_id)
        recent = None
        if self._velocity is not None:
            # Transactions received strictly before this one within the window, plus this one. Anchored at the
            # receive time (not processing time) so a redelivery scores the same; the GSI lag of this record's
            # own index entry does not matter.
            to_ms = message.received_epoch_ms - 1
            prior = self._store.count_recent(
                message.transaction.merchant_id,
                message.received_epoch_ms - self._velocity.window_ms,
                to_ms,
                limit=self._velocity.max_transactions,
            )
            recent = prior + 1
        subject = ScoringInput(
            amount=message.transaction.amount,
            currency=message.transaction.currency,
            merchant_name=merchant.name,
            thresholds=self._thresholds.with_overrides(merchant.overrides),
            recent_transactions=recent,
        )
        return assess(subject, self._rules)

    def process(self, message: TransactionMessage) -> FraudOutcome:
        """Raises DependencyError (the record is retried); the transition is written once."""
        transaction_id = message.transaction.transaction_id
        result = self.assess(message)
        fields: dict[str, Any] = {
            **message.record_fields(),
            "status": result.status.value,
            "fraud_score": result.score,
            "reasons": list(result.reasons),
            "processed_at": iso_utc(self._clock()),
        }
        try:
            self._store.finalize(fields, message.payload_hash)
        except ConditionFailed as exc:
            existing = exc.existing or self._store.get(transaction_id, consistent=True)
            return self._already_done(transaction_id, existing, message)
        return FraudOutcome(
            transaction_id, ProcessingOutcome.PROCESSED, result.status, result.score, result.reasons
        )

    def _already_done(
        self, transaction_id: str, existing: TransactionRecord | None, message: TransactionMessage
    ) -> FraudOutcome:
        if existing is None:  # deleted in between: nothing left to finalize
            return FraudOutcome(transaction_id, ProcessingOutcome.DUPLICATE, None, None, ())
        if existing.pending:
            # Pending for a different payload: this message belongs to an attempt the client was told
            # failed (503) and then replaced. The newer attempt's own message will finalize the record.
            logger.warning(
                "message superseded by a newer pending payload", extra={"transaction_id": transaction_id}
            )
            return FraudOutcome(transaction_id, ProcessingOutcome.SUPERSEDED, None, None, ())
        status, score = existing.status, existing.fraud_score
        return FraudOutcome(transaction_id, ProcessingOutcome.DUPLICATE, status, score, existing.reasons)
