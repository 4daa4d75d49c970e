"""Fraud alerts: the message (no cardholder data), sending it, and recording that it went out.

Both consumers use this: fraud detection sends the alert on the PENDING -> final transition, and the
dead-letter consumer re-sends it when every publish attempt failed until the message was dead-lettered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from handlers.domain.ports import Notifier, TransactionStore
from handlers.domain.records import TransactionRecord, iso_utc
from handlers.domain.transaction import format_amount

logger = logging.getLogger(__name__)


class FraudAlerts:
    def __init__(self, store: TransactionStore, notifier: Notifier, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock

    def send(self, record: TransactionRecord) -> None:
        """Publish the alert for ``record``, then mark it sent. Raises DependencyError if publishing fails."""
        message = {
            "alert_type": "FRAUD",
            "transaction_id": record.transaction_id,
            "merchant_id": record.merchant_id,
            "amount": format_amount(record.amount) if record.amount is not None else "None",
            "currency": record.currency,
            "status": record.status,
            "fraud_score": record.fraud_score or 0,
            "reasons": list(record.reasons),
            "received_at": record.received_at,
        }
        self._notifier.publish(
            subject=f"{record.status}: transaction {record.transaction_id}",
            message=message,
            attributes={"alert_type": "FRAUD", "status": str(record.status)},
        )
        # Publish succeeded; a failure to record it only risks a duplicate alert on a later redelivery.
        try:
            self._store.mark_alert_sent(record.transaction_id, iso_utc(self._clock()))
        except Exception:
            logger.warning("could not record alert_sent_at", extra={"transaction_id": record.transaction_id})
