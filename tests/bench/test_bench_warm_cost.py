"""The warm-cost benchmark runs against today's handlers: every AWS call they make is stubbed."""

from __future__ import annotations

import os

import pytest

from bench import bench_warm_cost
from card_transactions.handlers import fraud_detection, validation


@pytest.fixture
def own_environment(monkeypatch: pytest.MonkeyPatch):
    """The benchmark sets its handlers' variables and wires them: both are undone afterwards."""
    monkeypatch.setattr(os, "environ", os.environ.copy())
    yield
    validation.reset()
    fraud_detection.reset()


@pytest.mark.usefixtures("own_environment")
def test_one_round_measures_every_batch_size():
    section = bench_warm_cost.run(repeats=1)
    assert [row[0] for row in section.rows] == list(bench_warm_cost.BATCH_SIZES)
    assert section.data["validation_us"] > 0 and section.data["fraud_us"] > 0
