"""End-to-end fixtures: one local runtime (default settings) shared by the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.driver import Runtime, start_runtime, stop_runtime


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The local runtime with default settings (environment suffix dev, the usage plan of the stack)."""
    started = start_runtime(tmp_path_factory.mktemp("local-default"))
    yield started
    stop_runtime(started)
    assert started.process.returncode == 0, started.log()[-4000:]
    assert "Stopped." in started.log()
