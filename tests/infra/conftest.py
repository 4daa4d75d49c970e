"""The parsed stacks of the session's single synth (``synth_dir`` lives in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tests.infra.synth import Stack


@pytest.fixture(scope="session")
def stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, TRANSACTION_STACK)


@pytest.fixture(scope="session")
def backend_stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, STATE_BACKEND_STACK)
