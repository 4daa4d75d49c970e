"""The fast provider import produces byte-identical Terraform JSON and prints no Node banner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.bindings import PLAIN_IMPORT_ENV

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
