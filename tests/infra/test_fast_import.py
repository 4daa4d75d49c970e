"""The fast provider import produces byte-identical Terraform JSON and prints no Node banner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from card_transactions.stacks.bindings import PLAIN_IMPORT_ENV

ROOT = Path(__file__).resolve().parents[2]


def _synth(outdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "main.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CDKTF_OUTDIR": str(outdir), **env},
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_fast_path_output_is_identical_to_the_plain_import(tmp_path):
    fast = _synth(tmp_path / "fast")
    _synth(tmp_path / "plain", **{PLAIN_IMPORT_ENV: "1"})
    for stack in ("transaction-processing", "state-backend"):
        fast_json = (tmp_path / "fast" / "stacks" / stack / "cdk.tf.json").read_bytes()
        plain_json = (tmp_path / "plain" / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert fast_json == plain_json, stack
    assert "end-of-life" not in fast.stdout + fast.stderr.lower()
    assert "!!!!" not in fast.stdout + fast.stderr
    assert "DeprecationWarning" not in fast.stderr


NO_SIDE_EFFECTS = """
import os, sys
import card_transactions
from card_transactions.stacks import bindings
from card_transactions import TransactionProcessing, TransactionProcessingProps
import cdktf_cdktf_provider_aws
assert os.environ.get("JSII_NODE") is None, os.environ.get("JSII_NODE")
assert not [f for f in sys.meta_path if isinstance(f, bindings.PackageAlias)]
assert [n for n in card_transactions.__all__ if getattr(card_transactions, n) is None] == []
assert set(card_transactions.__all__) <= set(dir(card_transactions))
print(cdktf_cdktf_provider_aws.provider.AwsProvider.__name__)
"""


@pytest.mark.slow
def test_importing_the_package_changes_nothing_in_the_host_process():
    """A host that imports the construct keeps its environment and a whole provider package (the
    speed-up is the entry point's choice: ``bindings.activate()`` in ``main.py``)."""
    env = {k: v for k, v in os.environ.items() if k not in {"JSII_NODE", PLAIN_IMPORT_ENV}}
    done = subprocess.run(
        [sys.executable, "-c", NO_SIDE_EFFECTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "AwsProvider"
