"""Driving the local runtime for the benchmarks: start it with limits that never throttle, submit
transactions from concurrent HTTP clients, and wait until the pipeline has settled."""

from __future__ import annotations

import contextlib
import http.client
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.driver import API_KEY, Runtime, as_json, start_runtime, stop_runtime, transaction, wait_for

UNTHROTTLED = {"API_RATE_LIMIT": "10000", "API_BURST_LIMIT": "5000", "API_QUOTA_PER_DAY": "1000000000"}


@contextlib.contextmanager
def local_runtime(**overrides: str) -> Iterator[Runtime]:
    with tempfile.TemporaryDirectory() as scratch:
        runtime = start_runtime(Path(scratch), LOCAL_SEED="false", **UNTHROTTLED, **overrides)
        try:
            yield runtime
        finally:
            stop_runtime(runtime)


def mixed_transactions(merchant_ids: Sequence[str]) -> list[dict[str, Any]]:
    """One transaction per merchant id: 90% APPROVED, 5% REVIEW_REQUIRED, 5% FRAUD_SUSPECTED (alerted)."""
    out = []
    for index, merchant_id in enumerate(merchant_ids):
        if index % 20 == 0:
            out.append(transaction(merchant_id, "6000.25", "JPY"))  # 30 + 20: FRAUD_SUSPECTED
        elif index % 20 == 1:
            out.append(transaction(merchant_id, "5500.50"))  # 30: REVIEW_REQUIRED
        else:
            out.append(transaction(merchant_id, str(Decimal(10 + index % 3000) + Decimal("0.99"))))
    return out


@dataclass(frozen=True)
class Submission:
    seconds: float
    latencies_ms: list[float]
    accepted: int


def submit(
    runtime: Runtime,
    bodies: Sequence[dict[str, Any]],
    clients: int,
    path: str = "/transaction",
    method: str = "POST",
) -> Submission:
    """Send every body once from ``clients`` concurrent keep-alive connections."""
    url = urlsplit(runtime.info["api_url"])
    prefix = url.path.rstrip("/")
    latencies: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def worker() -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {"x-api-key": API_KEY, "Content-Type": "application/json"}
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            payload = as_json(bodies[index]) if method == "POST" else None
            started = time.perf_counter()
            connection.request(method, f"{prefix}{path}", body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                accepted[0] += response.status in (200, 202)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Submission(time.perf_counter() - started, latencies, accepted[0])


def processed_records(runtime: Runtime) -> int:
    """Records the fraud-detection function has finished, from the runtime's own counters."""
    pollers = runtime.status()["pollers"]
    return sum(p["succeeded"] for name, p in pollers.items() if name.startswith("fraud-detection"))


def wait_processed(runtime: Runtime, target: int, timeout: float) -> float:
    """Seconds until the fraud-detection function has processed ``target`` records in total."""
    started = time.perf_counter()
    wait_for(lambda: processed_records(runtime) >= target, timeout, interval=0.05, what=f"{target} records")
    return time.perf_counter() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
