"""Warm cost: CPU time per record of validation and of fraud scoring, AWS calls stubbed.

The handlers run in this process exactly as in a warm Lambda container (Powertools logger, metrics,
batch processor; tracing off as outside Lambda) with in-memory stand-ins for the boto3 clients, so
only the handlers' own work is measured. Baseline, measured in the same run: decoding the same
record bodies with ``json.loads`` (the least any handler must do).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.report import Section, print_section
from local.events import proxy_event, sqs_event

BATCH_SIZES = (1, 10, 100)
MERCHANT = {
    "merchant_id": {"S": "merchant_001"},
    "name": {"S": "Acme Stores"},
    "active": {"BOOL": True},
    "max_transaction_amount": {"N": "10000"},
}


API_KEY_TABLE = "api-keys-bench"
API_KEY = {"key_id": {"S": "benchkey01"}, "client": {"S": "bench"}, "state": {"S": "active"}}


class StubAws:
    """Answers every call the handlers make with the shape AWS returns on success; keeps what the table's
    stream would queue for each pending record the validation function writes, to feed it to fraud
    detection."""

    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []

    def get_item(self, *, TableName: str, **_: Any) -> dict[str, Any]:
        return {"Item": API_KEY if TableName == API_KEY_TABLE else MERCHANT}

    def batch_get_item(self, *, RequestItems: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {
            "Responses": {table: [MERCHANT for _ in spec["Keys"]] for table, spec in RequestItems.items()}
        }

    def put_item(self, *, Item: dict[str, Any], **_: Any) -> dict[str, Any]:
        body = json.dumps(Item["message"])  # the enqueue rule's: the stored message as the stream shows it
        attributes = {"ApproximateReceiveCount": "1"}
        self.queued.append(
            {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "r", "Body": body, "Attributes": attributes}
        )
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Count": 0, "Items": []}

    def publish(self, **_: Any) -> dict[str, Any]:
        return {"MessageId": str(uuid.uuid4())}


def _post(transaction_id: str) -> dict[str, Any]:
    """The proxy event API Gateway sends for a valid submission."""
    body = f'{{"transaction_id": "{transaction_id}", "merchant_id": "merchant_001", "amount": 1500.00, '
    body += '"currency": "USD"}'
    return proxy_event(
        method="POST",
        resource="/transaction",
        path="/transaction",
        stage="prod",
        headers=[("Content-Type", "application/json"), ("x-api-key", "bench-api-key-0123456789")],
        query={},
        path_parameters=None,
        body=body.encode(),
        source_ip="127.0.0.1",
        api_key="bench-api-key-0123456789",
        api_key_id="benchkey01",
        request_id=str(uuid.uuid4()),
        host="bench.execute-api.us-east-2.amazonaws.com",
    )


def _each(function: Callable[..., object], items: list[Any], *args: Any) -> None:
    for item in items:
        function(item, *args)


def _cpu_per_record(work: Callable[[], object], records: int, repeats: int) -> float:
    """Median CPU microseconds per record over ``repeats`` runs of ``work``."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        samples.append((time.process_time() - start) / records * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


def run(repeats: int = 15) -> Section:
    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Bench",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "AWS_DEFAULT_REGION": "us-east-2",
            "MERCHANT_TABLE_NAME": "merchant-config-bench",
            "TRANSACTION_TABLE_NAME": "processed-transactions-bench",
            "API_KEY_TABLE_NAME": API_KEY_TABLE,
        }
    )
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # logs and EMF go to stdout
        from card_transactions.handlers import fraud_detection, validation
        from local.lambda_context import LambdaContext

        stub = StubAws()
        context = LambdaContext.for_invocation("bench", memory_mb=256, timeout_seconds=900)
        validation.wire(dynamodb=stub)
        fraud_detection.wire(dynamodb=stub)
        rows = []
        for size in BATCH_SIZES:
            requests = [_post(f"txn_{i}") for i in range(size)]
            stub.queued.clear()
            _each(validation.handler, requests, context)  # the messages fraud detection then scores
            batch = sqs_event(stub.queued, "arn:aws:sqs:us-east-2:123456789012:q", "us-east-2")
            bodies = [e["body"] for e in requests] + [m["body"] for m in batch["Records"]]
            validate = _cpu_per_record(partial(_each, validation.handler, requests, context), size, repeats)
            score = _cpu_per_record(partial(fraud_detection.handler, batch, context), size, repeats)
            parse = _cpu_per_record(partial(_each, json.loads, bodies), 2 * size, repeats)
            rows.append((size, validate, score, parse, validate / parse, score / parse))
    section = Section(
        title="Warm cost per transaction (AWS stubbed)",
        header=(
            "batch size",
            "validation CPU us/record",
            "fraud scoring CPU us/record",
            "baseline json.loads us/record",
            "validation / baseline",
            "fraud / baseline",
        ),
        rows=rows,
        notes=[
            f"median of {repeats} runs; CPU time of this process (`time.process_time`), logs and EMF "
            "metrics formatted and written to /dev/null.",
            "validation is one API request per invocation, so its batch size is the number of requests in a "
            "warm container; fraud scoring receives the batch as one SQS event.",
        ],
    )
    section.data = {"validation_us": rows[1][1], "fraud_us": rows[1][2]}
    section.headlines["warm cost"] = (
        f"{rows[1][1]:.0f} us CPU to validate and {rows[1][2]:.0f} us to score one transaction (batch of 10)"
    )
    return section


if __name__ == "__main__":
    print_section(run(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
