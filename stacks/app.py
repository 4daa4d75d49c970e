"""Builds the cdktf app: the bootstrap (state backend) stack and the transaction stack."""

from __future__ import annotations

import json
from pathlib import Path

from cdktf import App

from card_transactions.settings.system import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.config import Settings
from card_transactions.stacks.state_backend_stack import StateBackendStack
from card_transactions.stacks.transaction_stack import TransactionStack

# The S3 backend locks with `use_lockfile`, which Terraform supports from 1.10. The constraint is written
# to a `versions.tf` beside each stack's `cdk.tf.json` rather than into the JSON: Terraform merges every
# configuration file of a directory, while checkov 3.3.30 crashes on `terraform.required_version` in
# `cdk.tf.json` (checkov issue 7454) and the compliance gate scans only `cdk.tf.json`.
REQUIRED_TERRAFORM_VERSION = ">= 1.10.0, < 2.0.0"
VERSIONS_FILE = "versions.tf"


def versions_tf(required_version: str = REQUIRED_TERRAFORM_VERSION) -> str:
    return (
        "# Written by stacks/app.py at synth: Terraform merges it with cdk.tf.json (see docs/deploy.md).\n"
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


# Resources a stack no longer manages but must not destroy go to `removed` blocks in a `removed.tf` beside
# its `cdk.tf.json`, for the same reason: checkov 3.3.30 cannot parse a `removed` key in the JSON.
REMOVED_FILE = "removed.tf"


def removed_tf(addresses: list[str]) -> str:
    """``removed`` blocks (Terraform >= 1.7) that drop ``addresses`` from the state and keep the objects."""
    blocks = [
        f"removed {{\n  from = {address}\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
        for address in addresses
    ]
    return "# Written by stacks/app.py at synth: forget these, never destroy them (docs/clients.md).\n" + (
        "\n".join(blocks)
    )


def write_removed_files(outdir: Path, forgotten: dict[str, list[str]]) -> list[Path]:
    """Write ``removed.tf`` into the working directory of every stack that forgets resources."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    written = []
    for name, addresses in forgotten.items():
        if addresses:
            path = outdir / manifest["stacks"][name]["workingDirectory"] / REMOVED_FILE
            path.write_text(removed_tf(addresses))
            written.append(path)
    return written


class PinnedTerraformApp(App):
    """An App whose synth also pins the Terraform CLI version of every stack (``versions.tf``) and writes
    the ``removed`` blocks of the stacks that have some (``removed.tf``)."""

    def synth(self) -> None:
        super().synth()
        write_versions_files(Path(self.outdir))
        forgotten = {
            stack.node.id: stack.forgotten_addresses
            for stack in self.node.children
            if isinstance(stack, TransactionStack)
        }
        write_removed_files(Path(self.outdir), forgotten)


def build_app(settings: Settings, outdir: str | None = None) -> App:
    app = PinnedTerraformApp(outdir=outdir) if outdir else PinnedTerraformApp()
    StateBackendStack(app, STATE_BACKEND_STACK, settings)
    TransactionStack(app, TRANSACTION_STACK, settings)
    return app
