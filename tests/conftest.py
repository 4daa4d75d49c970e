"""Shared test configuration: no test may reach AWS."""

import os
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app synthesized once per session with default settings (shared by infra and compliance)."""
    from stacks.app import build_app
    from stacks.config import Settings

    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(Settings(), outdir=str(outdir)).synth()
    return outdir
