"""Builds the cdktf app: the bootstrap (state backend) stack and the transaction stack."""

from __future__ import annotations

import json
from pathlib import Path

from cdktf import App

from settings.catalog import STATE_BACKEND_STACK, TRANSACTION_STACK
from stacks.config import Settings
from stacks.state_backend_stack import StateBackendStack
from stacks.transaction_stack import TransactionStack

# The S3 backend locks with `use_lockfile`, which Terraform supports from 1.10. The constraint is written
# to a `versions.tf` beside each stack's `cdk.tf.json` rather than into the JSON: Terraform merges every
# configuration file of a directory, while checkov 3.3.30 crashes on `terraform.required_version` in
# `cdk.tf.json` (checkov issue 7454) and the compliance gate scans only `cdk.tf.json`.
REQUIRED_TERRAFORM_VERSION = ">= 1.10.0, < 2.0.0"
VERSIONS_FILE = "versions.tf"


def versions_tf(required_version: str = REQUIRED_TERRAFORM_VERSION) -> str:
    return (
        "# Written by stacks/app.py at synth: Terraform merges it with cdk.tf.json (see README, Deploy).\n"
        f'terraform {{\n  required_version = "{required_version}"\n}}\n'
    )


def write_versions_files(outdir: Path) -> list[Path]:
    """Write ``versions.tf`` into the working directory of every stack listed in the manifest."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    written = []
    for stack in manifest["stacks"].values():
        path = outdir / stack["workingDirectory"] / VERSIONS_FILE
        path.write_text(versions_tf())
        written.append(path)
    return written


class PinnedTerraformApp(App):
    """An App whose synth also pins the Terraform CLI version of every stack (``versions.tf``)."""

    def synth(self) -> None:
        super().synth()
        write_versions_files(Path(self.outdir))


def build_app(settings: Settings, outdir: str | None = None) -> App:
    app = PinnedTerraformApp(outdir=outdir) if outdir else PinnedTerraformApp()
    StateBackendStack(app, STATE_BACKEND_STACK, settings)
    TransactionStack(app, TRANSACTION_STACK, settings)
    return app
