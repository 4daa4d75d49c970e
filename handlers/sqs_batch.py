"""The one way the batch handlers consume SQS: Powertools' BatchProcessor, one instance per invocation."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def receive_count(record: SQSRecord) -> int:
    """SQS's ApproximateReceiveCount of the record (0 when missing or malformed)."""
    try:
        return int(record.attributes.approximate_receive_count or 0)
    except (TypeError, ValueError):
        return 0


class SqsBatch(BatchProcessor):
    """One invocation's SQS batch; a subclass keeps that invocation's state and passes its record handler
    to ``process_partial_response``.

    Failed records are reported in ``batchItemFailures``, all-failed batches too (instead of raising),
    so SQS retries exactly those and callers see one response shape.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
