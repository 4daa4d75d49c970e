"""Local throughput and latency: accepted transactions per second, API latency percentiles, and the
time until the last transaction reaches a terminal state, under 1, 8 and 32 concurrent clients, and
how they change from 1,000 to 10,000 transactions.

Baseline, measured in the same run at the same concurrency: a request the local API answers without
calling a function (``GET /prod/openapi.json``), i.e. the HTTP front and client overhead alone.
"""

from __future__ import annotations

import os
import sys

from bench.load import (
    local_runtime,
    mixed_transactions,
    percentile,
    processed_records,
    submit,
    wait_processed,
)
from bench.report import Section, print_section

CONCURRENCY = (1, 8, 32)


def run(small: int = 1000, large: int = 10_000) -> Section:
    rows = []
    with local_runtime() as runtime:
        merchant = runtime.put_merchant("Acme Stores", limit="1000000")
        submit(runtime, mixed_transactions([merchant] * 20), 4)  # warm the caches and connections
        wait_processed(runtime, 20, timeout=60)
        plan = [(small, clients) for clients in CONCURRENCY] + ([(large, CONCURRENCY[-1])] if large else [])
        for count, clients in plan:
            baseline = submit(runtime, [{}] * min(count, 1000), clients, path="/openapi.json", method="GET")
            done = processed_records(runtime)
            load = submit(runtime, mixed_transactions([merchant] * count), clients)
            drain = wait_processed(runtime, done + load.accepted, timeout=600)
            p50 = percentile(load.latencies_ms, 0.50)
            rows.append(
                (
                    count,
                    clients,
                    load.accepted / load.seconds,
                    p50,
                    percentile(load.latencies_ms, 0.95),
                    percentile(load.latencies_ms, 0.99),
                    drain,
                    load.seconds + drain,
                    p50 / percentile(baseline.latencies_ms, 0.50),
                )
            )
    section = Section(
        title="Local throughput and latency (moto + the real handlers, one machine)",
        header=(
            "transactions",
            "clients",
            "accepted/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "last terminal after submit (s)",
            "total s",
            "p50 / no-op request p50",
        ),
        rows=rows,
        notes=[
            f"{os.cpu_count()} cores; the runtime, moto and the clients share them, so this measures the "
            "handlers' and moto's cost per transaction, not AWS's latency.",
            "'last terminal after submit': seconds from the last 202 until fraud detection has finished "
            "every record (queue drained).",
        ],
    )
    best = max(rows, key=lambda r: r[2])
    section.headlines["local throughput"] = (
        f"{best[2]:.0f} accepted transactions/s with {best[1]} clients "
        f"(p50 {best[3]:.0f} ms, p99 {best[5]:.0f} ms)"
    )
    return section


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    print_section(run(*arguments))
