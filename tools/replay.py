"""Re-enqueue every pending transaction now: the reconciler's pass, run by hand (``make replay``).

After an outage the scheduled reconciler re-enqueues stale pending transactions by itself every
``RECONCILE_EVERY_MINUTES`` (those pending longer than ``RECONCILE_AFTER_SECONDS``). This command runs the
same pass at once, with a threshold of your choice, against AWS (your credentials, ``AWS_REGION``,
``ENVIRONMENT_SUFFIX``) or against ``make local`` (``--endpoint-url http://127.0.0.1:5000``). It finds the
records through the sparse pending index (a Query per shard, no Scan), sends each one's stored message to
the transactions queue and moves its ``pending_since_ms`` to now. Re-sending is always safe: the consumer's
conditional write makes a duplicate a no-op. On AWS, run it as the on-call role ``OPERATOR_ROLE_ARN`` (with
the stack's operator policy): the transactions queue's policy admits no other person as a sender.

Usage: ``python -m tools.replay [--older-than SECONDS] [--limit N] [--dry-run] [--endpoint-url URL]
[--table NAME] [--queue-url URL]``. It prints one JSON line: found, requeued, without_payload, failed;
the exit status is 1 when some could not be sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from card_transactions.handlers.domain.ports import StalePending
from card_transactions.handlers.domain.reconciliation import ReconcileService
from card_transactions.stacks.config import Settings


class _DryRun:
    """Finds through the real index; sends and marks nothing."""

    def __init__(self, index: Any) -> None:
        self._index = index

    def stale(self, shard: int, pending_before_ms: int, limit: int) -> Sequence[StalePending]:
        return self._index.stale(shard, pending_before_ms, limit)

    def touch(self, transaction_id: str, seen_since_ms: int, now_ms: int) -> bool:
        return False

    def send(self, body: str) -> str:
        return "dry-run"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--older-than", type=int, default=60, help="seconds a transaction has been pending")
    parser.add_argument("--limit", type=int, default=100_000, help="most transactions to re-enqueue")
    parser.add_argument("--dry-run", action="store_true", help="count what would be re-enqueued")
    parser.add_argument(
        "--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="e.g. make local's"
    )
    parser.add_argument("--table", help="transactions table (default processed-transactions-{env})")
    parser.add_argument(
        "--queue-url", help="transactions queue (default: the URL of transaction-queue-{env})"
    )
    args = parser.parse_args(argv)
    for name in ("older_than", "limit"):
        if getattr(args, name) < (0 if name == "older_than" else 1):
            parser.error(f"--{name.replace('_', '-')} must be >= {0 if name == 'older_than' else 1}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from card_transactions.handlers.adapters.aws import CLIENT_CONFIG
    from card_transactions.handlers.adapters.dynamodb import PendingTransactions
    from card_transactions.handlers.adapters.messaging import TransactionQueue

    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env(os.environ)
    session = boto3.session.Session(region_name=settings.region)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=args.endpoint_url, config=CLIENT_CONFIG)

    sqs = client("sqs")
    queue_url = args.queue_url or sqs.get_queue_url(QueueName=settings.name("transaction-queue"))["QueueUrl"]
    index: Any = PendingTransactions(client("dynamodb"), args.table or settings.transaction_table_name)
    queue: Any = TransactionQueue(sqs, queue_url)
    if args.dry_run:
        index = queue = _DryRun(index)
    service = ReconcileService(
        index, queue, lambda: datetime.now(UTC), after_seconds=args.older_than, max_records=args.limit
    )
    report = service.run()
    print(
        json.dumps(
            {
                "found": report.found,
                "requeued": 0 if args.dry_run else report.requeued,
                "without_payload": report.without_payload,
                "failed": report.failed,
                "dry_run": args.dry_run,
            }
        )
    )
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
