"""Real terraform on the session's single synth (``synth_dir``, tests/conftest.py).

Skipped, with the reason, on a machine without terraform or a local mirror of the hashicorp/aws provider
(the ``toolchain`` fixture, tests/conftest.py). Every test gets its own scratch directories and
every moto server its own kernel-chosen port, so the tests run in parallel under pytest-xdist.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.terraform_check.check import StackCheck, open_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def checks(toolchain: Toolchain, synth_dir: Path, tmp_path: Path) -> dict[str, StackCheck]:
    """One ``StackCheck`` per synthesized stack, by name, in scratch directories under ``tmp_path``."""
    return {
        check.report.name: check
        for check in open_checks(toolchain, synth_dir, tmp_path / "terraform-check", log=lambda _: None)
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The upgrade check's plan summaries (``record_property("upgrade plan", ...)``), after the run."""
    summaries = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "upgrade plan" and getattr(report, "when", "") == "call"
    ]
    if summaries:
        terminalreporter.section(
            "upgrade check: the current code planned against the last release's stateful resources"
        )
        for summary in summaries:
            terminalreporter.line(summary)
