"""The parsed stacks of the session's synths, one per CDK toolkit: every infra test runs on cdktf and on
CDK Terrain (``synth_dir`` and ``cdktn_synth_dir`` live in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from stacks.bindings import CDKTF, TOOLKITS
from tests.infra.synth import Stack


@pytest.fixture(scope="session", params=list(TOOLKITS))
def toolkit_synth_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("synth_dir" if request.param == CDKTF.name else "cdktn_synth_dir")


@pytest.fixture(scope="session")
def stack(toolkit_synth_dir: Path) -> Stack:
    return Stack.load(toolkit_synth_dir, TRANSACTION_STACK)


@pytest.fixture(scope="session")
def backend_stack(toolkit_synth_dir: Path) -> Stack:
    return Stack.load(toolkit_synth_dir, STATE_BACKEND_STACK)
