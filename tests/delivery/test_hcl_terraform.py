"""``make hcl``: every stack as HCL that real Terraform validates, ``terraform fmt`` leaves alone, and that
holds the same resource addresses as the JSON (a team moving to it keeps its state)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tools import hcl_export
from tools.terraform_check.check import open_directory_checks
from tools.terraform_check.toolchain import Toolchain

STACKS = [TRANSACTION_STACK, STATE_BACKEND_STACK]
TOP_LEVEL_BLOCK = re.compile(r'^(resource|data|output) ((?:"[^"]+" )+)\{$', re.MULTILINE)


@pytest.fixture(scope="session")
def hcl_dir(synth_dir: Path, build_once) -> Path:
    """``make hcl``'s export, once per run (after ``synth_dir``, which builds the Lambda packages)."""
    return build_once("hcl.out", hcl_export.export)


def hcl_addresses(text: str) -> set[str]:
    """Addresses of the top-level blocks: ``type.name``, ``data.type.name``, ``output.name``."""
    return {
        ".".join(([] if kind == "resource" else [kind]) + re.findall(r'"([^"]+)"', labels))
        for kind, labels in TOP_LEVEL_BLOCK.findall(text)
    }


def json_addresses(doc: dict) -> set[str]:
    return (
        {f"{t}.{n}" for t, items in doc.get("resource", {}).items() for n in items}
        | {f"data.{t}.{n}" for t, items in doc.get("data", {}).items() for n in items}
        | {f"output.{n}" for n in doc.get("output", {})}
    )


@pytest.mark.parametrize("stack", STACKS)
def test_hcl_and_json_describe_the_same_addresses(hcl_dir, synth_dir, stack):
    hcl = (hcl_dir / "stacks" / stack / "cdk.tf").read_text()
    doc = json.loads((synth_dir / "stacks" / stack / "cdk.tf.json").read_text())
    assert len(json_addresses(doc)) > 10
    assert hcl_addresses(hcl) == json_addresses(doc)
    backend = next(iter(doc["terraform"]["backend"]))
    assert f'backend "{backend}" {{' in hcl


def test_the_untyped_waf_statements_are_blocks(hcl_dir):
    hcl = (hcl_dir / "stacks" / TRANSACTION_STACK / "cdk.tf").read_text()
    assert "unexpected type" not in hcl
    assert "statement = {" not in hcl
    assert hcl.count("    statement {\n      managed_rule_group_statement {\n") == 4
    assert hcl.count("    statement {\n      rate_based_statement {\n") == 2  # per API key, per IP
    assert "custom_key {\n" in hcl and "rule_action_override {\n" in hcl


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_hcl_is_terraform_fmt_clean(hcl_dir):
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "-recursive", "-no-color", str(hcl_dir / "stacks")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_terraform_validates_the_hcl_with_the_real_provider(
    hcl_dir: Path, tmp_path: Path, toolchain: Toolchain, stack: str
):
    [check] = open_directory_checks(
        toolchain, [(stack, hcl_dir / "stacks" / stack)], tmp_path, lambda _: None
    )
    check.prepare_for_validation()
    check.init()
    verdict = check.validate()
    assert (verdict["error_count"], verdict["warning_count"]) == (0, 0), verdict
