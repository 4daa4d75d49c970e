"""The reconciler's pass against a fake pending index: what it touches, counts and leaves alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.ports import StalePending
from card_transactions.handlers.domain.reconciliation import ReconcileReport, ReconcileService
from card_transactions.handlers.domain.records import epoch_ms, pending_shard

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
NOW_MS = epoch_ms(NOW)


class FakeIndex:
    """Entries by transaction id; ``outcomes`` says how a touch of an id ends (default: it succeeds)."""

    def __init__(self, *entries: StalePending, outcomes: dict[str, bool | Exception] | None = None) -> None:
        self.entries = {e.transaction_id: e for e in entries}
        self.outcomes = outcomes or {}
        self.touched: list[tuple[str, int, int]] = []

    def stale(self, shard: int, pending_before_ms: int, limit: int) -> Sequence[StalePending]:
        found = [
            e
            for e in self.entries.values()
            if pending_shard(e.transaction_id) == shard and e.pending_since_ms <= pending_before_ms
        ]
        return sorted(found, key=lambda e: e.pending_since_ms)[:limit]

    def touch(self, transaction_id: str, seen_since_ms: int, now_ms: int) -> bool:
        self.touched.append((transaction_id, seen_since_ms, now_ms))
        outcome = self.outcomes.get(transaction_id, True)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _service(index: FakeIndex, after_seconds: int = 900, max_records: int = 100) -> ReconcileService:
    return ReconcileService(index, lambda: NOW, after_seconds=after_seconds, max_records=max_records)


def _entry(transaction_id: str, age_ms: int, message: str | None = "{}") -> StalePending:
    return StalePending(transaction_id, NOW_MS - age_ms, message)


def test_each_stale_entry_with_a_message_is_touched_to_now():
    index = FakeIndex(_entry("old", 901_000), _entry("fresh", 899_000), _entry("bare", 3_600_000, None))
    report = _service(index).run()
    assert index.touched == [("old", NOW_MS - 901_000, NOW_MS)]
    assert report == ReconcileReport(found=2, requeued=1, without_payload=1, failed=0, changed=0)
    assert report.complete


def test_a_record_changed_since_it_was_found_is_neither_requeued_nor_failed():
    index = FakeIndex(_entry("scored", 901_000), _entry("stuck", 902_000), outcomes={"scored": False})
    report = _service(index).run()
    assert (report.found, report.requeued, report.failed, report.changed) == (2, 1, 0, 1)
    assert report.complete


def test_a_touch_failing_on_the_table_is_counted_and_the_pass_goes_on():
    down = DependencyError("transaction UpdateItem(touch)", "ProvisionedThroughputExceededException")
    index = FakeIndex(_entry("a", 901_000), _entry("b", 902_000), outcomes={"a": down})
    report = _service(index).run()
    assert (report.found, report.requeued, report.failed) == (2, 1, 1)
    assert not report.complete
    assert sorted(t[0] for t in index.touched) == ["a", "b"]


def test_the_touch_always_changes_the_record():
    """A write that changes nothing makes no stream record: pending since this very millisecond (a
    threshold of 0), the touch still moves pending_since_ms on, so the stream queues the message."""
    index = FakeIndex(_entry("now", 0))
    report = _service(index, after_seconds=0).run()
    assert report.requeued == 1
    assert index.touched == [("now", NOW_MS, NOW_MS + 1)]


def test_one_pass_touches_at_most_max_records():
    index = FakeIndex(*(_entry(f"t{i}", 901_000 + i) for i in range(10)))
    report = _service(index, max_records=4).run()
    assert (report.found, report.requeued, len(index.touched)) == (4, 4, 4)
