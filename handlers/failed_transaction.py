"""Failed-transaction Lambda: SQS batch from the DLQ; FAILED or rescoring records (alerted by the stream)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from card_transactions.handlers.container import Container, Dependencies
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.failure import DeadLetter, FailedEntry, FailureService
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory
from card_transactions.handlers.observability import observability
from card_transactions.handlers.runtime_settings import FailedTransactionSettings
from card_transactions.handlers.sqs_batch import SqsBatch, receive_count
from card_transactions.settings.system import FAILED_TRANSACTION

obs = observability(FAILED_TRANSACTION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics


def _build(settings: FailedTransactionSettings, dependencies: Dependencies) -> FailureService:
    from card_transactions.handlers.adapters.dynamodb import MerchantTable, TransactionTable

    dynamodb = dependencies.client("dynamodb")
    return FailureService(
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        clock=dependencies.now,
        # dead letters are rare: each reads its merchant, no cache
        merchants=MerchantDirectory(MerchantTable(dynamodb, settings.merchant_table_name), TTLCache(0)),
    )


container = Container(FailedTransactionSettings, _build)
wire, reset = container.wire, container.reset


class DeadLetterBatch(SqsBatch):
    """One invocation's batch of dead letters: records each (FAILED, or pending for the reconciler when the
    message is valid) and counts them."""

    def __init__(self, service: FailureService) -> None:
        super().__init__()
        self.service = service
        self.entries: list[FailedEntry] = []

    @tracer.capture_method(capture_response=False)
    def record(self, record: SQSRecord) -> FailedEntry | None:
        logger.set_correlation_id(record.message_id)
        dead = DeadLetter(message_id=record.message_id, body=record.body, receive_count=receive_count(record))
        return self.service.record(dead)

    def success_handler(self, record: Any, result: FailedEntry | None) -> Any:
        if result is not None:
            self.entries.append(result)
            logger.info(
                "transaction marked FAILED" if result.final else "retries exhausted, left for the reconciler",
                extra={"transaction_id": result.transaction_id, "failure_reason": result.failure_reason},
            )
        return super().success_handler(record, result)

    def failure_handler(self, record: Any, exception: Any) -> Any:
        logger.warning(
            "dead letter not recorded, will be retried", extra={"error": type(exception[1]).__name__}
        )
        return super().failure_handler(record, exception)

    def emit_metrics(self) -> None:
        obs.count("TransactionsFailed", sum(e.final for e in self.entries))
        obs.count("TransactionsRetriesExhausted", sum(not e.final for e in self.entries))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Lambda entry point ``handlers.failed_transaction.handler``: ``{"batchItemFailures": [...]}``."""
    batch = DeadLetterBatch(container.current.service)
    try:
        return process_partial_response(
            event=event, record_handler=batch.record, processor=batch, context=context
        )
    finally:
        batch.emit_metrics()
