"""The usage plan of the stack (rate, burst, daily quota), from a runtime synthesized with low limits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from local.driver import Runtime, start_runtime, stop_runtime

RATE, BURST, QUOTA = 5, 5, 12


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-limited"),
        API_RATE_LIMIT=str(RATE),
        API_BURST_LIMIT=str(BURST),
        API_QUOTA_PER_DAY=str(QUOTA),
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


def test_burst_then_rate_then_daily_quota(limited: Runtime) -> None:
    # GIVEN a usage plan of 5 requests/s, burst 5, 12 a day
    # WHEN requests arrive faster than the rate
    started = time.monotonic()
    burst = [limited.get("txn_unknown") for _ in range(BURST + 4)]
    elapsed = time.monotonic() - started
    admitted = [r for r in burst if r.status != 429]
    throttled = [r for r in burst if r.status == 429]
    # THEN the burst passes (to the function: 404) and the rest is throttled like API Gateway
    assert {r.status for r in admitted} == {404}
    assert BURST <= len(admitted) <= BURST + int(elapsed * RATE) + 1
    assert throttled and all(r.body["error"]["code"] == "THROTTLED" for r in throttled)
    assert all(r.headers["retry-after"] == "1" for r in throttled)
    assert limited.status()["functions"]["validation-lambda-dev"]["invocations"] == len(admitted)

    # WHEN requests keep coming at the rate, THEN the daily quota ends them with "Limit Exceeded"
    total = len(admitted)
    deadline = time.monotonic() + 15
    while True:
        response = limited.get("txn_unknown")
        if response.status == 429 and response.body["error"]["code"] == "QUOTA_EXCEEDED":
            break
        total += response.status != 429
        assert time.monotonic() < deadline, "the quota never ran out"
        time.sleep(1 / RATE)
    assert total == QUOTA
    # the key stays refused for the rest of the day; no key is still 403, not 429
    time.sleep(1 / RATE * 2)
    assert limited.get("txn_unknown").body["error"]["code"] == "QUOTA_EXCEEDED"
    assert limited.get("txn_unknown", key=None).status == 403
