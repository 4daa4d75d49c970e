"""Synthesize the app once per test session (default settings) and share the parsed stacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK, build_app
from stacks.config import Settings
from tests.infra.synth import Stack


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(Settings(), outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="session")
def stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, TRANSACTION_STACK)


@pytest.fixture(scope="session")
def backend_stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, STATE_BACKEND_STACK)
