"""The reconciler: re-enqueue every transaction that has been pending for too long.

A transaction stays ``PENDING_FRAUD_CHECK`` when its message never reached the queue (the validation call
died between PutItem and SendMessage and the client never retried), or when its message was dead-lettered
after every retry failed because a dependency was down (``retries_exhausted_at``). Both are found through
the sparse pending index (an attribute present only while pending; a Query per shard, never a Scan) and
their stored message is sent again. The consumer's conditional write makes a duplicate harmless.
``pending_since_ms`` moves to now after each re-enqueue, so a record is sent again only if it is still
pending another ``after_seconds`` later (no flood while an outage lasts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.ports import MessageQueue, PendingIndex
from card_transactions.handlers.domain.records import PENDING_SHARDS, epoch_ms

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileReport:
    found: int  # pending longer than the threshold
    requeued: int  # sent to the queue again
    without_payload: int  # pending without a stored message (written before the index existed)
    failed: int  # could not be sent (the queue is unavailable)

    @property
    def complete(self) -> bool:
        return self.failed == 0


class ReconcileService:
    def __init__(
        self,
        index: PendingIndex,
        queue: MessageQueue,
        clock: Callable[[], datetime],
        *,
        after_seconds: int,
        max_records: int,
    ) -> None:
        self._index = index
        self._queue = queue
        self._clock = clock
        self._after_ms = after_seconds * 1000
        self._max_records = max_records

    def run(self) -> ReconcileReport:
        """One pass over every shard. A failing Query raises DependencyError; failing sends are counted."""
        now_ms = epoch_ms(self._clock())
        found = requeued = without_payload = failed = 0
        for shard in range(PENDING_SHARDS):
            remaining = self._max_records - found
            if remaining <= 0:
                logger.warning("reconciler stopped at its per-run limit", extra={"limit": self._max_records})
                break
            for entry in self._index.stale(shard, now_ms - self._after_ms, remaining):
                found += 1
                if entry.message is None:
                    without_payload += 1
                    logger.error(
                        "pending transaction has no stored message",
                        extra={"transaction_id": entry.transaction_id},
                    )
                    continue
                try:
                    self._queue.send(entry.message)
                except DependencyError as exc:
                    failed += 1
                    logger.warning(
                        "could not re-enqueue",
                        extra={"transaction_id": entry.transaction_id, "reason": str(exc)},
                    )
                    continue
                requeued += 1
                try:
                    self._index.touch(entry.transaction_id, entry.pending_since_ms, now_ms)
                except DependencyError as exc:  # sent anyway: the next run may send a harmless duplicate
                    logger.warning(
                        "re-enqueued but not marked",
                        extra={"transaction_id": entry.transaction_id, "reason": str(exc)},
                    )
        return ReconcileReport(found, requeued, without_payload, failed)
