"""Failed-transaction Lambda: SQS batch from the DLQ; FAILED records and one alert per invocation."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.container import Container, Wiring
from handlers.domain.errors import DependencyError
from handlers.domain.failure import DeadLetter, FailedEntry, FailureService
from handlers.observability import LocalContext, observability
from handlers.runtime_settings import FailedTransactionSettings

obs = observability("failed-transaction")
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics
# All-failed batches are reported like partial ones (every record listed) instead of raising: same retry
# semantics for SQS, one response shape for callers such as the local runtime.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


_entries: list[FailedEntry] = []


def _build(
    settings: FailedTransactionSettings | None = None,
    *,
    dynamodb: Any = None,
    sns: Any = None,
    clock: Any = None,
) -> Wiring[FailedTransactionSettings, FailureService]:
    from handlers.adapters.aws import make_client
    from handlers.adapters.dynamodb import TransactionTable
    from handlers.adapters.messaging import AlertTopic

    settings = settings or FailedTransactionSettings.from_env(os.environ)
    service = FailureService(
        store=TransactionTable(dynamodb or make_client("dynamodb"), settings.transaction_table_name),
        notifier=AlertTopic(sns or make_client("sns"), settings.sns_topic_arn),
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return Wiring(settings, service)


container = Container(_build)
wire, reset = container.wire, container.reset


def _receive_count(record: SQSRecord) -> int:
    try:
        return int(record.attributes.approximate_receive_count or 0)
    except (TypeError, ValueError):
        return 0


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    logger.set_correlation_id(record.message_id)
    dead = DeadLetter(message_id=record.message_id, body=record.body, receive_count=_receive_count(record))
    try:
        entry = container.current.service.record(dead)
    except Exception as exc:
        logger.warning("dead letter not recorded, will be retried", extra={"error": type(exc).__name__})
        raise
    if entry is not None:
        _entries.append(entry)
        logger.info(
            "transaction marked FAILED",
            extra={"transaction_id": entry.transaction_id, "failure_reason": entry.failure_reason},
        )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def _instrumented(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _entries.clear()
    records = event.get("Records", []) if isinstance(event, dict) else []
    with processor(records=records, handler=record_handler, lambda_context=context):
        processor.process()
    response = processor.response()
    entries = list(_entries)
    obs.count("TransactionsFailed", len(entries))
    if entries:
        try:
            container.current.service.alert(entries)
            obs.count("FailureAlertsSent")
        except DependencyError as exc:
            # FAILED records are written; retrying these messages re-attempts the alert (FailureService).
            logger.warning(
                "failure alert not published, messages will be retried", extra={"reason": str(exc)}
            )
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            response = {
                "batchItemFailures": [
                    *response["batchItemFailures"],
                    *({"itemIdentifier": e.message_id} for e in entries if e.message_id not in failed),
                ]
            }
    return response


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point: `handlers.failed_transaction.handler`. Returns {"batchItemFailures": [...]}."""
    return _instrumented(event, context or LocalContext())
