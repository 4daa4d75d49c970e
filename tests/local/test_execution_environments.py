"""The local runtime runs a function like Lambda: in execution environments (processes) of its own, one
invocation at a time each, scaling out for concurrent invocations, with the function's environment."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.config import FaultConfig
from local.functions import FunctionError, FunctionThrottled, LocalFunction
from local.metrics import MetricsSink, parse_emf
from local.stack import FunctionSpec

HANDLER = "tests.local.rendezvous_handler.handler"


def _function(
    concurrency: int = 2,
    timeout: int = 30,
    handler: str = HANDLER,
    lines: list[str] | None = None,
    reserved: int | None = None,
) -> LocalFunction:
    spec = FunctionSpec("F", "rendezvous-test", handler, timeout, 128, {}, reserved)
    return LocalFunction(
        spec,
        {"PATH": os.environ.get("PATH", ""), "MARKER": "from-the-stack", "PYTHONUNBUFFERED": "1"},
        region="us-east-2",
        concurrency=concurrency,
        faults=FaultConfig(),
        output=lambda _, line: (lines if lines is not None else []).append(line),
        usage=lambda requests, faults: None,
    )


@pytest.fixture
def function() -> Any:
    started = _function()
    started.start()
    yield started
    started.stop()


def test_concurrent_invocations_run_side_by_side_in_their_own_environments(function, tmp_path: Path):
    # WHEN two invocations must meet while both are running (each waits for the other)
    events = [{"id": name, "rendezvous": str(tmp_path), "parties": 2} for name in ("a", "b")]
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(function.invoke, events)
    # THEN they ran in two processes, and neither saw the other's state
    assert first["pid"] != second["pid"]
    assert (first["seen"], second["seen"]) == (["a"], ["b"])
    assert first["request_id"] != second["request_id"]
    assert function.environments == 2
    # AND a later invocation reuses a warm environment, module state included, like a Lambda container
    third = function.invoke({"id": "c"})
    assert (
        third["pid"] in (first["pid"], second["pid"]) and third["seen"][-1] == "c" and len(third["seen"]) == 2
    )
    assert function.environments == 2


def test_the_environment_is_the_functions(function):
    result = function.invoke({"id": "a"})
    assert result["marker"] == "from-the-stack"
    assert result["home"] is None  # nothing of the runtime's own environment leaks in
    assert 0 < result["remaining_ms"] <= 30_000


def test_concurrency_is_capped_and_invocations_wait_for_a_free_environment():
    function = _function(concurrency=1)
    function.start()
    try:
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(function.invoke, [{"id": str(i), "sleep": 0.1} for i in range(3)]))
        assert len({r["pid"] for r in results}) == 1
        assert function.environments == 1
    finally:
        function.stop()


def test_invocations_beyond_the_reserved_concurrency_are_throttled_not_queued():
    # GIVEN a function with a reserved concurrency of 1, busy with one invocation
    function = _function(concurrency=2, reserved=1)
    function.start()
    try:
        with ThreadPoolExecutor(1) as pool:
            busy = pool.submit(function.invoke, {"id": "slow", "sleep": 0.5})
            while function._in_flight == 0:
                pass
            # THEN a second one is refused at once, like Lambda's 429, and the first completes
            with pytest.raises(FunctionThrottled, match="Rate Exceeded"):
                function.invoke({"id": "second"})
            assert busy.result()["seen"][-1] == "slow"
        assert function.throttles == 1
        assert function.invoke({"id": "third"})["seen"][-1] == "third"  # free again
    finally:
        function.stop()


def test_an_error_is_reported_and_the_environment_lives_on(function):
    with pytest.raises(FunctionError, match="RuntimeError: boom"):
        function.invoke({"id": "a", "fail": "boom"})
    assert function.invoke({"id": "b"})["seen"] == ["a", "b"]
    assert (function.invocations, function.errors) == (2, 1)


def test_a_timed_out_invocation_loses_its_environment():
    function = _function(timeout=1)
    function.start()
    try:
        with pytest.raises(FunctionError, match=r"Task timed out after 1\.00 seconds"):
            function.invoke({"id": "slow", "sleep": 5})
        assert function.invoke({"id": "next"})["seen"] == ["next"]  # a fresh environment
    finally:
        function.stop()


def test_a_handler_that_cannot_load_fails_the_start():
    function = _function(handler="tests.local.no_such_module.handler")
    with pytest.raises(ValueError, match="no_such_module"):
        function.start()


def test_output_is_the_functions_log_stream():
    lines: list[str] = []
    function = _function(lines=lines)
    function.start()
    try:
        function.invoke({"id": "a", "print": "hello from the handler"})
    finally:
        function.stop()
    assert "hello from the handler" in lines


def test_emf_lines_are_metrics():
    line = (
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["service","status"]],'
        '"Metrics":[{"Name":"FraudStatus","Unit":"Count"}]}]},"service":"fraud-detection",'
        '"status":"APPROVED","FraudStatus":[2.0,1.0]}'
    )
    assert parse_emf(line) == {"FraudStatus{status=APPROVED}": 3.0}
    assert parse_emf('{"level":"INFO","message":"not a metric"}') is None
    sink = MetricsSink()
    sink.record("f", parse_emf(line) or {})
    sink.record("f", parse_emf(line) or {})
    assert sink.summary() == {"f": {"FraudStatus{status=APPROVED}": 6.0}}
