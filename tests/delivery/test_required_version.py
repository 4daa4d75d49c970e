"""Terraform's required_version: in a versions.tf beside each cdk.tf.json, honoured by terraform, and kept
out of the JSON that checkov scans (checkov 3.3.30 crashes on it there, checkov issue 7454)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from card_transactions.stacks.app import (
    REQUIRED_TERRAFORM_VERSION,
    VERSIONS_FILE,
    build_app,
    versions_tf,
    write_versions_files,
)
from card_transactions.stacks.config import Settings

UNSUPPORTED = "Unsupported Terraform Core version"


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdktf.out")
    build_app(Settings(), outdir=str(outdir)).synth()
    return outdir


def stack_dirs(outdir: Path) -> list[Path]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return [outdir / stack["workingDirectory"] for stack in manifest["stacks"].values()]


def init(directory: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["terraform", f"-chdir={directory}", "init", "-backend=false", "-input=false", "-no-color"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_constraint_matches_the_s3_lockfile():
    assert REQUIRED_TERRAFORM_VERSION == ">= 1.10.0, < 2.0.0"


def test_synth_writes_versions_tf_beside_every_stack(synth_dir: Path):
    dirs = stack_dirs(synth_dir)
    assert len(dirs) == 2
    for directory in dirs:
        assert (directory / VERSIONS_FILE).read_text() == versions_tf()
        assert f'required_version = "{REQUIRED_TERRAFORM_VERSION}"' in versions_tf()


def test_the_json_checkov_scans_carries_no_required_version(synth_dir: Path):
    for directory in stack_dirs(synth_dir):
        terraform = json.loads((directory / "cdk.tf.json").read_text())["terraform"]
        assert "required_version" not in terraform


def test_backend_needs_the_pinned_version(synth_dir: Path):
    backend = json.loads((synth_dir / "stacks/transaction-processing/cdk.tf.json").read_text())["terraform"][
        "backend"
    ]
    assert backend["s3"]["use_lockfile"] is True


def test_write_versions_files_follows_the_manifest(tmp_path: Path):
    (tmp_path / "stacks/a").mkdir(parents=True)
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": {"a": {"workingDirectory": "stacks/a"}}}))
    assert write_versions_files(tmp_path) == [tmp_path / "stacks/a" / VERSIONS_FILE]


def test_installed_terraform_satisfies_the_constraint(tmp_path: Path, offline_terraform):
    # Only the constraint: nothing to download, so init completes offline.
    (tmp_path / VERSIONS_FILE).write_text(versions_tf())
    done = init(tmp_path, offline_terraform)
    assert done.returncode == 0, done.stdout + done.stderr


def test_terraform_merges_versions_tf_with_cdk_tf_json_and_checks_it_first(
    synth_dir: Path, tmp_path: Path, offline_terraform
):
    # GIVEN the synthesized transaction stack with a constraint no Terraform satisfies
    stack = tmp_path / "stack"
    shutil.copytree(
        synth_dir / "stacks/transaction-processing", stack, ignore=shutil.ignore_patterns("assets")
    )
    (stack / VERSIONS_FILE).write_text(versions_tf(">= 99.0.0"))
    # WHEN terraform initializes it THEN it stops on the core version, before any provider download
    done = init(stack, offline_terraform)
    assert done.returncode != 0
    assert UNSUPPORTED in done.stderr
    assert f"on {VERSIONS_FILE} line" in done.stderr


def test_real_constraint_passes_and_init_only_stops_at_the_offline_provider_mirror(
    synth_dir: Path, tmp_path: Path, offline_terraform
):
    stack = tmp_path / "stack"
    shutil.copytree(
        synth_dir / "stacks/transaction-processing", stack, ignore=shutil.ignore_patterns("assets")
    )
    done = init(stack, offline_terraform)
    output = done.stdout + done.stderr
    assert UNSUPPORTED not in output
    assert "hashicorp/aws" in output  # it went on to install providers (none offline)
