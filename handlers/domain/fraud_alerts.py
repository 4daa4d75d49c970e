"""Fraud alerts: the message (no cardholder data), sending it, and recording that it went out.

Both consumers use this: fraud detection sends the alert on the PENDING -> final transition, and the
dead-letter consumer re-sends it when every publish attempt failed until the message was dead-lettered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from handlers.domain.fraud import FraudStatus
from handlers.domain.ports import Notifier, TransactionStore
from handlers.domain.records import iso_utc
from handlers.domain.transaction import format_amount

logger = logging.getLogger(__name__)

ALERTABLE = (FraudStatus.FRAUD_SUSPECTED.value, FraudStatus.REVIEW_REQUIRED.value)


def alert_pending(record: Mapping[str, Any]) -> bool:
    """A final record that needed an alert which has not been recorded as sent."""
    return (
        record.get("status") in ALERTABLE
        and record.get("alert_required") is True
        and not record.get("alert_sent_at")
    )


class FraudAlerts:
    def __init__(self, store: TransactionStore, notifier: Notifier, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._notifier = notifier
        self._clock = clock

    def send(self, record: Mapping[str, Any]) -> None:
        """Publish the alert for ``record``, then mark it sent. Raises DependencyError if publishing fails."""
        amount = record.get("amount")
        message = {
            "alert_type": "FRAUD",
            "transaction_id": record["transaction_id"],
            "merchant_id": record.get("merchant_id"),
            "amount": format_amount(amount) if isinstance(amount, Decimal) else str(amount),
            "currency": record.get("currency"),
            "status": record.get("status"),
            "fraud_score": int(record.get("fraud_score") or 0),
            "reasons": list(record.get("reasons") or []),
            "received_at": record.get("received_at"),
        }
        self._notifier.publish(
            subject=f"{record.get('status')}: transaction {record['transaction_id']}",
            message=message,
            attributes={"alert_type": "FRAUD", "status": str(record.get("status"))},
        )
        # Publish succeeded; a failure to record it only risks a duplicate alert on a later redelivery.
        try:
            self._store.mark_alert_sent(record["transaction_id"], iso_utc(self._clock()))
        except Exception:
            logger.warning(
                "could not record alert_sent_at", extra={"transaction_id": record["transaction_id"]}
            )
