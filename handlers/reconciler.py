"""Reconciler Lambda (EventBridge Scheduler): re-drive transactions pending longer than the threshold (the
conditional touch that the table's stream queues again, ``handlers.domain.reconciliation``)."""

from __future__ import annotations

from typing import Any

from card_transactions.handlers.container import Container, Dependencies
from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.reconciliation import ReconcileService
from card_transactions.handlers.observability import observability
from card_transactions.handlers.runtime_settings import ReconcilerSettings
from card_transactions.settings.system import RECONCILER

obs = observability(RECONCILER)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics


def _build(settings: ReconcilerSettings, dependencies: Dependencies) -> ReconcileService:
    from card_transactions.handlers.adapters.dynamodb import PendingTransactions

    return ReconcileService(
        PendingTransactions(dependencies.client("dynamodb"), settings.transaction_table_name),
        dependencies.now,
        after_seconds=settings.reconcile_after_seconds,
        max_records=settings.reconcile_max_records,
    )


container = Container(ReconcilerSettings, _build)
wire, reset = container.wire, container.reset


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Lambda entry point ``handlers.reconciler.handler``. Raises (the invocation fails, Lambda retries it
    and then sends it to the async-failure queue) when the table is unavailable."""
    obs.count("ReconcilerRuns")  # the heartbeat: its absence is an alarm
    report = container.current.service.run()
    obs.count("StaleTransactionsFound", report.found)
    obs.count("TransactionsRequeued", report.requeued)
    obs.count("StaleWithoutPayload", report.without_payload)
    obs.count("RequeueFailed", report.failed)
    summary = {
        "found": report.found,
        "requeued": report.requeued,
        "without_payload": report.without_payload,
        "failed": report.failed,
        "changed": report.changed,
    }
    if report.found:
        logger.warning("stale pending transactions re-enqueued", extra=summary)
    if not report.complete:
        raise DependencyError("reconcile", "RequeueFailed", f"{report.failed} transaction(s) not re-driven")
    return summary
