"""Two invocations of one batch handler in flight at the same time keep their own batch state.

Lambda runs concurrent invocations in separate environments; nothing in a handler may rely on that:
each invocation's records, failures, counts and alert belong to that invocation alone. A barrier holds
both invocations inside their batches until both are there. (Powertools keeps one metric set per
process, so here one invocation may flush the other's metrics: Lambda never runs two in one process.)
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from card_transactions.handlers import failed_transaction, fraud_detection
from tests.events import dlq_batch, queue_message, sqs_batch


def _in_step(monkeypatch: pytest.MonkeyPatch, service: Any, method: str) -> None:
    """Make ``service.method`` wait for the other invocation on each call (two calls per invocation)."""
    barrier = threading.Barrier(2, timeout=20)
    original = getattr(service, method)

    def in_step(*args: Any) -> Any:
        barrier.wait()
        return original(*args)

    monkeypatch.setattr(service, method, in_step)


def _together(handler: Any, events: list[dict[str, Any]], context: Any) -> list[Any]:
    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(lambda event: handler(event, context), events))


pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_concurrent_fraud_batches_report_only_their_own_failures(aws, monkeypatch):
    # GIVEN two batches in flight together, the second holding a poison message between two good ones
    aws.put_merchant()
    clean = sqs_batch([queue_message(transaction_id="a1"), queue_message(transaction_id="a2")])
    poisoned = sqs_batch(
        [queue_message(transaction_id="b1"), "not a message", queue_message(transaction_id="b2")]
    )
    _in_step(monkeypatch, fraud_detection.container.current.service, "process")
    # WHEN both run at the same time
    clean_response, poisoned_response = _together(fraud_detection.handler, [clean, poisoned], aws.context)
    # THEN each response names exactly its own failed record, and every good record was scored
    assert clean_response == {"batchItemFailures": []}
    assert poisoned_response == {
        "batchItemFailures": [{"itemIdentifier": poisoned["Records"][1]["messageId"]}]
    }
    assert {aws.record(t)["status"] for t in ("a1", "a2", "b1", "b2")} == {"APPROVED"}


def test_concurrent_dead_letter_batches_record_and_alert_each_transaction_once(aws, monkeypatch):
    # GIVEN two dead-letter batches in flight together
    first = dlq_batch([queue_message(transaction_id="x1"), queue_message(transaction_id="x2")])
    second = dlq_batch([queue_message(transaction_id="y1"), queue_message(transaction_id="y2")])
    _in_step(monkeypatch, failed_transaction.container.current.service, "record")
    # WHEN both run at the same time
    responses = _together(failed_transaction.handler, [first, second], aws.context)
    # THEN each transaction was recorded once and has its one alert
    assert responses == [{"batchItemFailures": []}] * 2
    assert sorted(alert["transaction_id"] for alert in aws.alerts()) == ["x1", "x2", "y1", "y2"]
