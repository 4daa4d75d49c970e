"""Fraud-detection Lambda: SQS batch from the transactions queue, partial batch responses.

A record that fails is reported in ``batchItemFailures`` and comes back after the queue's visibility
timeout; after ``MAX_RECEIVE_COUNT`` receives SQS moves it to the dead-letter queue. The function never
calls SQS itself."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from card_transactions.handlers.container import Container, Dependencies
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.errors import InvalidMessage
from card_transactions.handlers.domain.fraud_processing import FraudOutcome, FraudService, ProcessingOutcome
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.domain.records import TransactionMessage
from card_transactions.handlers.observability import observability
from card_transactions.handlers.runtime_settings import FraudDetectionSettings
from card_transactions.handlers.sqs_batch import SqsBatch, receive_count
from card_transactions.settings.system import FRAUD_DETECTION

obs = observability(FRAUD_DETECTION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics


def _build(settings: FraudDetectionSettings, dependencies: Dependencies) -> FraudService:
    from card_transactions.handlers.adapters.dynamodb import MerchantTable, TransactionTable

    dynamodb = dependencies.client("dynamodb")
    return FraudService(
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        merchants=MerchantDirectory(
            MerchantTable(dynamodb, settings.merchant_table_name),
            TTLCache(settings.merchant_cache_ttl_seconds, clock=dependencies.monotonic or time.monotonic),
        ),
        clock=dependencies.now,
        thresholds=settings.thresholds,
        velocity=settings.velocity,
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
        self.failures = 0

    @tracer.capture_method(capture_response=False)
    def record(self, record: SQSRecord) -> FraudOutcome:
        logger.set_correlation_id(record.message_id)
        return self.service.process(TransactionMessage.from_json(record.body))

    def success_handler(self, record: Any, result: FraudOutcome) -> Any:
        self.outcomes[result.outcome] += 1
        if result.outcome is ProcessingOutcome.PROCESSED and result.status:
            self.statuses[result.status] += 1
        logger.info(
            "record processed",
            extra={
                "transaction_id": result.transaction_id,
                "outcome": result.outcome,
                "status": result.status,
                "fraud_score": result.score,
            },
        )
        return super().success_handler(record, result)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        self.failures += 1
        error = exception[1]
        if isinstance(error, InvalidMessage):
            # Retrying cannot help: it comes back until MAX_RECEIVE_COUNT receives, then goes to the DLQ.
            logger.warning("poison message, left for the DLQ", extra={"reason": str(error)})
        else:
            logger.warning(
                "record failed, will be retried after the visibility timeout",
                extra={
                    "error": type(error).__name__,
                    "reason": str(error),
                    "receives": receive_count(record),
                },
            )
        return super().failure_handler(record, exception)

    def emit_metrics(self) -> None:
        obs.count("TransactionsProcessed", self.outcomes[ProcessingOutcome.PROCESSED])
        obs.count("DuplicateDeliveries", self.outcomes[ProcessingOutcome.DUPLICATE])
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
