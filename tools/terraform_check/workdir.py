"""The scratch copy of a synthesized stack that terraform runs in, and the override pointing it at moto."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STACK_FILE = "cdk.tf.json"
OVERRIDE_FILE = "moto_override.tf.json"
PROVIDER_PIN_FILE = "provider_pin_override.tf.json"
MOTO_CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}  # moto accepts any; never real ones
# The AWS endpoint (provider `endpoints` key) each resource or data source type calls, by type prefix.
# A type matching none stops the check: its calls would otherwise go to AWS instead of moto.
ENDPOINT_BY_PREFIX = (
    ("aws_api_gateway_", "apigateway"),
    ("aws_availability_zones", "ec2"),
    ("aws_caller_identity", "sts"),
    ("aws_cloudwatch_event_", "events"),
    ("aws_cloudwatch_log_", "logs"),
    ("aws_cloudwatch_", "cloudwatch"),
    ("aws_default_security_group", "ec2"),
    ("aws_dynamodb_", "dynamodb"),
    ("aws_flow_log", "ec2"),
    ("aws_iam_", "iam"),
    ("aws_kms_", "kms"),
    ("aws_lambda_", "lambda"),
    ("aws_pipes_", "pipes"),
    ("aws_prefix_list", "ec2"),
    ("aws_route_table", "ec2"),
    ("aws_s3_", "s3"),
    ("aws_scheduler_", "scheduler"),
    ("aws_security_group", "ec2"),
    ("aws_signer_", "signer"),
    ("aws_sns_", "sns"),
    ("aws_sqs_", "sqs"),
    ("aws_subnet", "ec2"),
    ("aws_vpc", "ec2"),
    ("aws_wafv2_", "wafv2"),
    ("aws_xray_", "xray"),
)
NO_API = frozenset({"aws_iam_policy_document", "aws_partition"})  # computed by the provider itself
_COPY_IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "*.tfplan")


def read_stack(directory: Path) -> dict[str, Any]:
    return json.loads((directory / STACK_FILE).read_text())


def write_stack(directory: Path, doc: dict[str, Any]) -> None:
    (directory / STACK_FILE).write_text(json.dumps(doc, indent=2) + "\n")


def scratch_copy(stack_dir: Path, workdir: Path, provider_version: str) -> dict[str, Any]:
    """Copy ``stack_dir`` to a fresh ``workdir`` for the mirror's provider and no backend (see the package
    docstring for why); returns the rewritten ``cdk.tf.json``."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(stack_dir, workdir, ignore=_COPY_IGNORE)
    doc = for_mirror(read_stack(workdir), provider_version)
    write_stack(workdir, doc)
    return doc


def for_mirror(doc: dict[str, Any], provider_version: str) -> dict[str, Any]:
    """``doc`` requiring the mirror's provider version, without its backend (changed in place)."""
    terraform = doc["terraform"]
    terraform["required_providers"]["aws"]["version"] = provider_version
    terraform.pop("backend", None)
    return doc


def pinned_copy(source: Path, workdir: Path, provider_version: str) -> None:
    """Copy a stack directory in any form (``cdk.tf.json`` or exported HCL) to a fresh ``workdir``, with
    an override file requiring the mirror's provider version: enough for ``init -backend=false`` and
    ``validate``."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(source, workdir, ignore=_COPY_IGNORE)
    pin = {"source": "hashicorp/aws", "version": provider_version}
    override = {"terraform": {"required_providers": {"aws": pin}}}
    (workdir / PROVIDER_PIN_FILE).write_text(json.dumps(override, indent=2) + "\n")


def endpoint_services(types: Iterable[str]) -> list[str]:
    """The provider endpoints the given resource and data source types call, plus IAM and STS, which the
    provider itself calls for the account id (``iam:GetUser``, then ``sts:GetCallerIdentity``)."""
    services = {"iam", "sts"}
    for kind in types:
        if kind in NO_API:
            continue
        service = next((s for prefix, s in ENDPOINT_BY_PREFIX if kind.startswith(prefix)), None)
        if service is None:
            raise ValueError(
                f"no moto endpoint known for {kind}: add its service to ENDPOINT_BY_PREFIX in {__name__}"
            )
        services.add(service)
    return sorted(services)


def stack_types(doc: dict[str, Any]) -> set[str]:
    return {*doc.get("resource", {}), *doc.get("data", {})}


def moto_override(
    doc: dict[str, Any], endpoint: str, resources: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An override file sending every AWS call of ``doc`` to moto at ``endpoint`` with dummy credentials;
    ``resources`` adds resource overrides (the read-back gaps' ``ignore_changes``)."""
    provider = {
        **MOTO_CREDENTIALS,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        "s3_use_path_style": True,
        "endpoints": [{service: endpoint for service in endpoint_services(stack_types(doc))}],
    }
    override: dict[str, Any] = {"provider": {"aws": provider}}
    if resources:
        override["resource"] = resources
    return override


def write_override(workdir: Path, override: dict[str, Any]) -> None:
    (workdir / OVERRIDE_FILE).write_text(json.dumps(override, indent=2) + "\n")
