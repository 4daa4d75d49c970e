"""Shared test configuration: no test may reach AWS."""

import fcntl
import os
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from card_transactions.stacks import bindings
from tools.terraform_check.toolchain import Toolchain, find_toolchain

# Credentials and region that can never reach a real account; moto and the local runtime accept them.
for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-2",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TransactionProcessingTests",
}.items():
    os.environ[name] = value
os.environ.pop("AWS_PROFILE", None)
# The suite runs cdktf in this process; CDK Terrain runs in its own interpreter (``cdktn_synth_dir``).
os.environ.pop("CDK_TOOLKIT", None)
bindings.activate()  # the harness is an entry point, like main.py: the fast provider import for every synth


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app synthesized once per session with default settings (shared by infra and compliance)."""
    from card_transactions.stacks.app import build_app
    from card_transactions.stacks.config import Settings

    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(Settings(), outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="session")
def build_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Callable[[Path], None]], Path]:
    """``build_once(name, build)``: ``build(directory)`` once per run, shared by the xdist workers."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' temp directories are siblings

    def once(name: str, build: Callable[[Path], None]) -> Path:
        directory = root / name
        with (root / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / f"{name}.done").exists():
                build(directory)
                (root / f"{name}.done").touch()
        return directory

    return once


@pytest.fixture(scope="session")
def cdktn_synth_dir(synth_dir: Path, build_once) -> Path:
    """The app synthesized once per run with CDK Terrain, from its own environment (``tools/cdktn``).

    It depends on ``synth_dir`` so the Lambda packages are built (and cached) before this synth reuses them.
    """
    from card_transactions.stacks.bindings import CDKTN, ROOT, TOOLKIT_ENV

    def synth(outdir: Path) -> None:
        if not CDKTN.python.exists():
            pytest.fail(f"CDK Terrain's environment is missing: `make test` installs {CDKTN.environment}")
        done = subprocess.run(
            [str(CDKTN.python), "main.py"],
            cwd=ROOT,
            env={**os.environ, TOOLKIT_ENV: CDKTN.name, "CDKTF_OUTDIR": str(outdir)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    return build_once("cdktn.out", synth)


@pytest.fixture(scope="session")
def toolchain() -> Toolchain:
    """Real terraform and a local mirror of the AWS provider (tools/terraform_check/toolchain.py), or a
    skip saying which is missing. A ``TF_PROVIDER_MIRROR`` without the provider is an error, not a skip."""
    found = find_toolchain()
    if isinstance(found, str):
        pytest.skip(found)
    return found


TESTS = Path(__file__).resolve().parent
# What a test needs beyond Python, known from its folder or from a fixture it uses: each is a marker
# (pyproject.toml) that the fast tier, `make check`, deselects (with `slow`). A new test in one of these
# folders, or using one of these fixtures, is marked without anyone remembering to.
NEEDS_BY_FOLDER = {"terraform": "terraform", "e2e": "e2e", "compliance": "compliance"}
NEEDS_BY_FIXTURE = {
    "toolchain": "terraform",
    "offline_terraform": "terraform",
    "runtime": "e2e",
    "cdktn_synth_dir": "toolkit",
    "hcl_dir": "toolkit",
}


def needs_of(path: Path, fixtures: Iterable[str]) -> set[str]:
    """The markers of a test in ``path`` that uses ``fixtures``."""
    folder = path.resolve().relative_to(TESTS).parts[0]
    found = {NEEDS_BY_FOLDER.get(folder)} | {NEEDS_BY_FIXTURE.get(name) for name in fixtures}
    return {need for need in found if need}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for need in sorted(needs_of(item.path, getattr(item, "fixturenames", ()))):
            item.add_marker(need)


def pytest_terminal_summary(terminalreporter):
    """Print the measurements tests record (``record_property``) under "measured", also from xdist workers."""
    lines = [
        f"{name}: {value}"
        for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
        for name, value in getattr(report, "user_properties", ())
        if report.when == "call"
    ]
    if lines:
        terminalreporter.section("measured")
        for line in lines:
            terminalreporter.write_line(line)
