"""Re-drive every pending transaction now: the reconciler's pass, run by hand (``make replay``).

After an outage the scheduled reconciler re-drives stale pending transactions by itself every
``RECONCILE_EVERY_MINUTES`` (those pending longer than ``RECONCILE_AFTER_SECONDS``). This command runs the
same pass at once, with a threshold of your choice, against AWS (your credentials, ``AWS_REGION``,
``ENVIRONMENT_SUFFIX``) or against ``make local`` (``--endpoint-url http://127.0.0.1:5000``). It finds the
records through the sparse pending index (a Query per shard, no Scan) and gives each one with a stored
message the conditional touch (``pending_since_ms`` to now, ``failure_reason`` removed, while still
pending): the table's stream puts its message on the transactions queue again. It calls DynamoDB only,
never SQS. A duplicate is always harmless: the consumer's conditional write makes it a no-op. On AWS, run
it as the on-call role ``OPERATOR_ROLE_ARN`` (with the stack's operator policy).

Usage: ``python -m tools.replay [--older-than SECONDS] [--limit N] [--dry-run] [--endpoint-url URL]
[--table NAME]``. It prints one JSON line: found, requeued, without_payload, failed, changed; the exit
status is 1 when some could not be touched.
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
    """Finds through the real index; touches nothing (each touch would succeed)."""

    def __init__(self, index: Any) -> None:
        self._index = index

    def stale(self, shard: int, pending_before_ms: int, limit: int) -> Sequence[StalePending]:
        return self._index.stale(shard, pending_before_ms, limit)

    def touch(self, transaction_id: str, seen_since_ms: int, now_ms: int) -> bool:
        return True


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--older-than", type=int, default=60, help="seconds a transaction has been pending")
    parser.add_argument("--limit", type=int, default=100_000, help="most transactions to re-drive")
    parser.add_argument("--dry-run", action="store_true", help="count what would be re-driven")
    parser.add_argument(
        "--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="e.g. make local's"
    )
    parser.add_argument("--table", help="transactions table (default processed-transactions-{env})")
    args = parser.parse_args(argv)
    for name in ("older_than", "limit"):
        if getattr(args, name) < (0 if name == "older_than" else 1):
            parser.error(f"--{name.replace('_', '-')} must be >= {0 if name == 'older_than' else 1}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from card_transactions.handlers.adapters.aws import CLIENT_CONFIG
    from card_transactions.handlers.adapters.dynamodb import PendingTransactions

    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env(os.environ)
    session = boto3.session.Session(region_name=settings.region)
    dynamodb = session.client("dynamodb", endpoint_url=args.endpoint_url, config=CLIENT_CONFIG)
    index: Any = PendingTransactions(dynamodb, args.table or settings.transaction_table_name)
    if args.dry_run:
        index = _DryRun(index)
    service = ReconcileService(
        index, lambda: datetime.now(UTC), after_seconds=args.older_than, max_records=args.limit
    )
    report = service.run()
    print(
        json.dumps(
            {
                "found": report.found,
                "requeued": 0 if args.dry_run else report.requeued,
                "without_payload": report.without_payload,
                "failed": report.failed,
                "changed": report.changed,
                "dry_run": args.dry_run,
            }
        )
    )
    return 0 if report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
