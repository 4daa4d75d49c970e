"""The reconciler: re-drive every transaction that has been pending for too long.

A transaction stays ``PENDING_FRAUD_CHECK`` when its message never reached the fraud check (the table's
stream could not deliver it to the transactions queue), or when its message was dead-lettered after every
try failed because a dependency was down (``retries_exhausted_at``, ``failure_reason``). Both are found
through the sparse pending index (an attribute present only while pending; a Query per shard, never a
Scan). Each one with a stored message gets the conditional touch: ``pending_since_ms`` moves to now and
``failure_reason`` goes, as long as the record is still pending as it was found. That change passes the
enqueue rule, so the table's stream puts the stored message on the queue again; the reconciler itself
sends nothing. The consumer's conditional write makes a duplicate harmless, and a record is re-driven
again only if it is still pending another ``after_seconds`` later (no flood while an outage lasts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.ports import PendingIndex, StalePending
from card_transactions.handlers.domain.records import PENDING_SHARDS, epoch_ms

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileReport:
    found: int  # pending longer than the threshold
    requeued: int  # touched: the stream queues its message again
    without_payload: int  # pending without a stored message (written before the index existed)
    failed: int  # not touched: the table refused the write (a dependency failure)
    changed: int = 0  # scored or re-driven by someone else since it was found: left alone

    @property
    def complete(self) -> bool:
        return self.failed == 0


class ReconcileService:
    def __init__(
        self,
        index: PendingIndex,
        clock: Callable[[], datetime],
        *,
        after_seconds: int,
        max_records: int,
    ) -> None:
        self._index = index
        self._clock = clock
        self._after_ms = after_seconds * 1000
        self._max_records = max_records

    def run(self) -> ReconcileReport:
        """One pass over every shard. A failing Query raises DependencyError; failing touches are counted."""
        now_ms = epoch_ms(self._clock())
        found = requeued = without_payload = failed = changed = 0
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
                    touched = self._touch(entry, now_ms)
                except DependencyError as exc:
                    failed += 1
                    logger.warning(
                        "could not re-drive",
                        extra={"transaction_id": entry.transaction_id, "reason": str(exc)},
                    )
                    continue
                if touched:
                    requeued += 1
                else:
                    changed += 1
                    logger.info(
                        "changed since it was found, left alone",
                        extra={"transaction_id": entry.transaction_id},
                    )
        return ReconcileReport(found, requeued, without_payload, failed, changed)

    def _touch(self, entry: StalePending, now_ms: int) -> bool:
        # Always a later value: a write that changes nothing makes no stream record, so queues nothing.
        return self._index.touch(
            entry.transaction_id, entry.pending_since_ms, max(now_ms, entry.pending_since_ms + 1)
        )
