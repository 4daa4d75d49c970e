"""terraform init, validate, fmt and plan against moto on both synthesized stacks, with the real provider.

These catch what the JSON assertions of tests/infra cannot: values the provider's validators reject,
attribute combinations its plan-time checks refuse, references that do not resolve. The two broken
stacks below show that they do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK, build_app
from card_transactions.stacks.config import Settings
from tools.terraform_check.check import CheckFailed, StackCheck, managed_addresses, open_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain
from tools.terraform_check.workdir import OVERRIDE_FILE, read_stack, write_stack

PINNED_PROVIDER = "6.25.0"  # cdktf-cdktf-provider-aws 21.22.1


@pytest.mark.parametrize("name", [STATE_BACKEND_STACK, TRANSACTION_STACK])
def test_stack_validates_is_formatted_and_plans_every_resource_against_moto(
    checks: dict[str, StackCheck], moto: MotoServer, synth_dir: Path, toolchain: Toolchain, name: str
):
    check = checks[name]
    check.prepare()
    check.init()
    check.validate()
    check.fmt()
    check.plan(moto.endpoint)
    assert check.report.planned == len(managed_addresses(check.doc)) > 0
    # The scratch copy, outside the synth output, runs the mirror's provider without a backend...
    copy = read_stack(check.workdir)
    assert not check.workdir.is_relative_to(synth_dir)
    assert copy["terraform"]["required_providers"]["aws"]["version"] == toolchain.provider_version
    assert "backend" not in copy["terraform"]
    # ...while the synthesized stack keeps its pin and backend, and both hold the same resources.
    original = json.loads((synth_dir / "stacks" / name / "cdk.tf.json").read_text())
    assert original["terraform"]["required_providers"]["aws"]["version"] == PINNED_PROVIDER
    assert "backend" in original["terraform"]
    assert copy["resource"] == original["resource"]
    # Every AWS call went to moto, with its dummy credentials.
    provider = json.loads((check.workdir / OVERRIDE_FILE).read_text())["provider"]["aws"]
    assert set(provider["endpoints"][0].values()) == {moto.endpoint}
    assert {"iam", "sts"} <= set(provider["endpoints"][0])
    assert (provider["access_key"], provider["secret_key"]) == ("testing", "testing")


def _break(check: StackCheck, resource_type: str, **attributes: str) -> None:
    """Give the stack's first ``resource_type`` these attribute values, as a faulty construct would."""
    check.prepare()
    body = next(iter(check.doc["resource"][resource_type].values()))
    body.update(attributes)
    write_stack(check.workdir, check.doc)
    check.init()


def test_an_invalid_enum_value_fails_validate(checks: dict[str, StackCheck]):
    check = checks[STATE_BACKEND_STACK]
    _break(check, "aws_dynamodb_table", billing_mode="ON_DEMAND")  # the API's name is PAY_PER_REQUEST
    with pytest.raises(
        CheckFailed, match=r'expected billing_mode to be one of \["PROVISIONED" "PAY_PER_REQUEST"\]'
    ):
        check.validate()


def test_a_combination_only_the_plan_checks_fails_plan(checks: dict[str, StackCheck], moto: MotoServer):
    # GIVEN a table switched to provisioned capacity without any capacity: a valid configuration
    check = checks[STATE_BACKEND_STACK]
    _break(check, "aws_dynamodb_table", billing_mode="PROVISIONED")
    check.validate()
    # WHEN it is planned THEN the provider's plan-time check refuses it
    with pytest.raises(
        CheckFailed, match=r'read_capacity must be at least 1 when billing_mode is "PROVISIONED"'
    ):
        check.plan(moto.endpoint)


def test_a_badly_formatted_versions_tf_fails_fmt(checks: dict[str, StackCheck]):
    check = checks[STATE_BACKEND_STACK]
    check.prepare()
    (check.workdir / "versions.tf").write_text('terraform {\nrequired_version = ">= 1.10.0, < 2.0.0"\n}\n')
    with pytest.raises(CheckFailed, match=r"versions\.tf"):
        check.fmt()


def test_the_custom_domain_and_per_client_resources_validate(toolchain: Toolchain, tmp_path: Path):
    # GIVEN the stack with a TLS 1.2 custom domain, its DNS record, two clients, no account setting, an
    # operator role and a permissions boundary on every role
    settings = Settings(
        api_domain_name="api.payments.example.com",
        api_certificate_arn="arn:aws:acm:us-east-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
        api_hosted_zone_id="Z0123456789ABCDEFGHIJ",
        api_clients=("acme:100:200:5000", "globex"),
        manage_api_gateway_account=False,
        operator_role_arn="arn:aws:iam::123456789012:role/oncall",
        permissions_boundary_arn="arn:aws:iam::123456789012:policy/workload-boundary",
    )
    build_app(settings, outdir=str(tmp_path / "synth")).synth()
    (check,) = [
        c
        for c in open_checks(toolchain, tmp_path / "synth", tmp_path / "check", log=lambda _: None)
        if c.report.name == TRANSACTION_STACK
    ]
    check.prepare()
    # THEN the real provider accepts every resource and attribute
    assert {"aws_api_gateway_domain_name", "aws_route53_record"} <= set(check.doc["resource"])
    assert all(r["permissions_boundary"] for r in check.doc["resource"]["aws_iam_role"].values())
    check.init()
    check.validate()
