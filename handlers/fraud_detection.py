"""Fraud-detection Lambda: SQS batch from the transactions queue, partial batch responses."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from handlers.container import Container, Dependencies
from handlers.domain.cache import TTLCache
from handlers.domain.errors import InvalidMessage
from handlers.domain.fraud_processing import FraudOutcome, FraudService, ProcessingOutcome
from handlers.domain.merchant_directory import MerchantDirectory
from handlers.domain.records import TransactionMessage
from handlers.observability import observability
from handlers.runtime_settings import FraudDetectionSettings
from handlers.sqs_batch import SqsBatch
from settings.catalog import FRAUD_DETECTION

obs = observability(FRAUD_DETECTION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics


def _build(settings: FraudDetectionSettings, dependencies: Dependencies) -> FraudService:
    from handlers.adapters.dynamodb import MerchantTable, TransactionTable
    from handlers.adapters.messaging import AlertTopic

    dynamodb = dependencies.client("dynamodb")
    return FraudService(
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        merchants=MerchantDirectory(
            MerchantTable(dynamodb, settings.merchant_table_name),
            TTLCache(settings.merchant_cache_ttl_seconds, clock=dependencies.monotonic or time.monotonic),
        ),
        notifier=AlertTopic(dependencies.client("sns"), settings.sns_topic_arn),
        clock=dependencies.now,
        thresholds=settings.thresholds,
        velocity=settings.velocity,
        alert_on_review_required=settings.alert_on_review_required,
    )


container = Container(FraudDetectionSettings, _build)
wire, reset = container.wire, container.reset


class FraudBatch(SqsBatch):
    """One invocation's batch: scores each record and counts the outcomes its metrics report."""

    def __init__(self, service: FraudService) -> None:
        super().__init__()
        self.service = service
        self.outcomes: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.alerts = 0
        self.failures = 0

    @tracer.capture_method(capture_response=False)
    def record(self, record: SQSRecord) -> FraudOutcome:
        logger.set_correlation_id(record.message_id)
        return self.service.process(TransactionMessage.from_json(record.body))

    def success_handler(self, record: Any, result: FraudOutcome) -> Any:
        self.outcomes[result.outcome] += 1
        if result.outcome is ProcessingOutcome.PROCESSED and result.status:
            self.statuses[result.status] += 1
        self.alerts += result.alerted
        logger.info(
            "record processed",
            extra={
                "transaction_id": result.transaction_id,
                "outcome": result.outcome,
                "status": result.status,
                "fraud_score": result.score,
                "alerted": result.alerted,
            },
        )
        return super().success_handler(record, result)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        self.failures += 1
        error = exception[1]
        if isinstance(error, InvalidMessage):
            logger.warning("poison message, left for the DLQ", extra={"reason": str(error)})
        else:
            logger.warning(
                "record failed, will be retried",
                extra={"error": type(error).__name__, "reason": str(error)},
            )
        return super().failure_handler(record, exception)

    def emit_metrics(self) -> None:
        obs.count("TransactionsProcessed", self.outcomes[ProcessingOutcome.PROCESSED])
        obs.count("DuplicateDeliveries", self.outcomes[ProcessingOutcome.DUPLICATE])
        obs.count("FraudAlertsSent", self.alerts)
        obs.count("RecordsFailed", self.failures)
        obs.count_by("FraudStatus", "status", self.statuses)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Lambda entry point: ``handlers.fraud_detection.handler``. Returns ``{"batchItemFailures": [...]}``."""
    batch = FraudBatch(container.current.service)
    batch.service.prefetch_merchants(r.get("body", "") for r in event.get("Records", []))
    try:
        return process_partial_response(
            event=event, record_handler=batch.record, processor=batch, context=context
        )
    finally:
        batch.emit_metrics()
