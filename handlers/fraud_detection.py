"""Fraud-detection Lambda: SQS batch from the transactions queue, partial batch responses."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from card_transactions.handlers.container import Container, Dependencies
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.errors import DependencyError, InvalidMessage
from card_transactions.handlers.domain.fraud_processing import FraudOutcome, FraudService, ProcessingOutcome
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.domain.ports import VisibilityControl
from card_transactions.handlers.domain.records import TransactionMessage
from card_transactions.handlers.domain.retry import Backoff
from card_transactions.handlers.observability import observability
from card_transactions.handlers.runtime_settings import FraudDetectionSettings
from card_transactions.handlers.sqs_batch import SqsBatch, receive_count
from card_transactions.settings.system import FRAUD_DETECTION

obs = observability(FRAUD_DETECTION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics


class Consumer:
    """What one container scores with, and how it backs off failed records. The SQS client is made on
    the first failure, not on the cold start (a healthy container never needs it)."""

    def __init__(
        self, service: FraudService, queue: Callable[[], VisibilityControl], backoff: Backoff
    ) -> None:
        self.service = service
        self.backoff = backoff
        self._make_queue = queue
        self._queue: VisibilityControl | None = None

    @property
    def queue(self) -> VisibilityControl:
        if self._queue is None:
            self._queue = self._make_queue()
        return self._queue


def _build(settings: FraudDetectionSettings, dependencies: Dependencies) -> Consumer:
    from card_transactions.handlers.adapters.dynamodb import MerchantTable, TransactionTable
    from card_transactions.handlers.adapters.messaging import TransactionQueue

    dynamodb = dependencies.client("dynamodb")
    service = FraudService(
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        merchants=MerchantDirectory(
            MerchantTable(dynamodb, settings.merchant_table_name),
            TTLCache(settings.merchant_cache_ttl_seconds, clock=dependencies.monotonic or time.monotonic),
        ),
        clock=dependencies.now,
        thresholds=settings.thresholds,
        velocity=settings.velocity,
    )
    return Consumer(
        service,
        lambda: TransactionQueue(dependencies.client("sqs"), settings.queue_url),
        settings.backoff,
    )


container = Container(FraudDetectionSettings, _build)
wire, reset = container.wire, container.reset


class FraudBatch(SqsBatch):
    """One invocation's batch: scores each record and counts the outcomes its metrics report."""

    def __init__(self, consumer: Consumer) -> None:
        super().__init__()
        self.service = consumer.service
        self._consumer = consumer
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
            # Retrying cannot help: visible again at once, so it reaches the DLQ in seconds.
            logger.warning("poison message, left for the DLQ", extra={"reason": str(error)})
            self._retry_after(record, 0)
        else:
            receives = receive_count(record)
            delay = self._consumer.backoff.delay(receives)
            logger.warning(
                "record failed, will be retried",
                extra={
                    "error": type(error).__name__,
                    "reason": str(error),
                    "receives": receives,
                    "retry_in": delay,
                },
            )
            self._retry_after(record, delay)
        return super().failure_handler(record, exception)

    def _retry_after(self, record: SQSRecord, seconds: int) -> None:
        """Back off on this record alone; if that fails it comes back after the queue's visibility timeout."""
        try:
            self._consumer.queue.change_visibility(record.receipt_handle, seconds)
        except DependencyError as exc:
            logger.warning("back-off not applied", extra={"reason": str(exc)})

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
