"""Layering rules: the domain is pure; entry points stay light to import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "handlers" / "domain"


@pytest.mark.parametrize("source", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_has_no_aws_sdk_and_no_environment(source):
    text = source.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(boto3|botocore)", text, re.MULTILINE)
    assert "os.environ" not in text
    assert "getenv" not in text


@pytest.mark.parametrize(
    "module",
    [
        "card_transactions.handlers.validation",
        "card_transactions.handlers.fraud_detection",
        "card_transactions.handlers.failed_transaction",
        "card_transactions.handlers.reconciler",
    ],
)
def test_entry_points_import_without_aws_sdk_or_xray(module):
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('boto3', 'botocore.session', 'aws_xray_sdk') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=DOMAIN.parents[1],
    )
    # boto3 is imported on the first invocation (wiring), the X-Ray SDK only when tracing is on in Lambda.
    assert result.stdout.strip() == ""
