"""The local runtime driver's waiting: patient while work progresses, strict when it stalls."""

from __future__ import annotations

import itertools

import pytest

from local.driver import wait_while_progressing


def test_waits_as_long_as_the_count_keeps_growing():
    ticks = itertools.count()

    def poll() -> tuple[int, str | None]:
        n = next(ticks)  # grows on every poll, done only after many more polls than one stall allows
        return n, "done" if n == 12 else None

    assert wait_while_progressing(poll, stall=0.05, interval=0.01) == "done"


def test_fails_when_the_count_stops_growing_and_says_where_it_stopped():
    counts = iter([0, 1, 2])

    def poll() -> tuple[int, None]:
        return next(counts, 2), None

    with pytest.raises(AssertionError, match=r"no progress for 0.05 s \(at 2\) waiting for the batch"):
        wait_while_progressing(poll, stall=0.05, interval=0.01, what="the batch")
