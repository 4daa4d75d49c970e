"""Fraud-detection Lambda: SQS batch from the transactions queue, partial batch responses."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.container import Container, Wiring
from handlers.domain.errors import InvalidMessage
from handlers.domain.fraud_processing import DUPLICATE, PROCESSED, FraudService
from handlers.domain.records import TransactionMessage
from handlers.observability import LocalContext, observability
from handlers.runtime_settings import FraudDetectionSettings

obs = observability("fraud-detection")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
# All-failed batches are reported like partial ones (every record listed) instead of raising: same retry
# semantics for SQS, one response shape for callers such as the local runtime.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


_counts: dict[str, Counter[str]] = {}


def _build(
    settings: FraudDetectionSettings | None = None,
    *,
    dynamodb: Any = None,
    sns: Any = None,
    clock: Any = None,
) -> Wiring[FraudDetectionSettings, FraudService]:
    from handlers.adapters.aws import make_client
    from handlers.adapters.dynamodb import TransactionTable
    from handlers.adapters.messaging import AlertTopic

    settings = settings or FraudDetectionSettings.from_env(os.environ)
    service = FraudService(
        store=TransactionTable(dynamodb or make_client("dynamodb"), settings.transaction_table_name),
        notifier=AlertTopic(sns or make_client("sns"), settings.sns_topic_arn),
        clock=clock or (lambda: datetime.now(UTC)),
        thresholds=settings.thresholds,
        velocity=settings.velocity,
        alert_on_review_required=settings.alert_on_review_required,
    )
    return Wiring(settings, service)


container = Container(_build)
wire, reset = container.wire, container.reset


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> str:
    logger.set_correlation_id(record.message_id)
    try:
        message = TransactionMessage.from_json(record.body)
        outcome = container.current.service.process(message)
    except InvalidMessage as exc:
        _counts["outcome"]["INVALID_MESSAGE"] += 1
        logger.warning("poison message, left for the DLQ", extra={"reason": str(exc)})
        raise
    except Exception as exc:
        _counts["outcome"]["FAILED"] += 1
        logger.warning(
            "record failed, will be retried", extra={"error": type(exc).__name__, "reason": str(exc)}
        )
        raise
    _counts["outcome"][outcome.outcome] += 1
    if outcome.outcome == PROCESSED and outcome.status:
        _counts["status"][outcome.status] += 1
    if outcome.alerted:
        _counts["outcome"]["ALERTED"] += 1
    logger.info(
        "record processed",
        extra={
            "transaction_id": outcome.transaction_id,
            "outcome": outcome.outcome,
            "status": outcome.status,
            "fraud_score": outcome.score,
            "alerted": outcome.alerted,
        },
    )
    return outcome.outcome


def _emit_metrics() -> None:
    outcomes = _counts["outcome"]
    obs.count("TransactionsProcessed", outcomes[PROCESSED])
    obs.count("DuplicateDeliveries", outcomes[DUPLICATE])
    obs.count("FraudAlertsSent", outcomes["ALERTED"])
    obs.count("RecordsFailed", outcomes["FAILED"] + outcomes["INVALID_MESSAGE"])
    obs.count_by("FraudStatus", "status", _counts["status"])


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def _instrumented(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _counts.clear()
    _counts.update(outcome=Counter(), status=Counter())
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        _emit_metrics()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point: `handlers.fraud_detection.handler`. Returns {"batchItemFailures": [...]}."""
    return _instrumented(event, context or LocalContext())
