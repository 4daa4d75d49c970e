"""A burst beyond the validation function's reserved concurrency: Lambda throttles, and the client gets
503 SERVICE_UNAVAILABLE with Retry-After in the API's error shape (API Gateway's INTEGRATION_FAILURE)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.driver import Runtime, start_runtime, stop_runtime

PARALLEL = 24


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-narrow"),
        VALIDATION_RESERVED_CONCURRENCY="1",
        LOCAL_CONCURRENCY="2",
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


def test_a_burst_beyond_the_reserved_concurrency_gets_503_with_retry_after(narrow: Runtime) -> None:
    # WHEN more requests arrive at once than the function may run side by side
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda i: narrow.get(f"txn_burst_{i}"), range(PARALLEL * 2)))
    served = [a for a in answers if a.status == 404]  # reached the function: no such transaction
    throttled = [a for a in answers if a.status == 503]
    # THEN every request is either served or throttled, and a throttled one says when to retry
    assert len(served) + len(throttled) == len(answers)
    assert served and throttled
    for answer in throttled:
        assert answer.headers["retry-after"] == "1"
        error = answer.body["error"]
        assert (error["code"], error["details"]) == ("SERVICE_UNAVAILABLE", [])
        assert error["request_id"] == answer.headers["x-amzn-requestid"]
    function = narrow.status()["functions"]["validation-lambda-dev"]
    assert function["throttles"] == len(throttled)
    assert function["invocations"] == len(served)
