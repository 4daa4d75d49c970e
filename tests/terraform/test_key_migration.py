"""Keys leave Terraform without dying: against a state that holds the API keys and usage plan keys an
earlier version created, the current configuration's ``removed`` blocks make real terraform forget them
(no destroy), and the key stays live in its usage plan (moto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from card_transactions.stacks.app import TRANSACTION_STACK
from card_transactions.stacks.constructs.api_clients import logical_id
from tests.terraform.migration import plan_with_removed_blocks
from tools.terraform_check.check import open_directory_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain, run_terraform
from tools.terraform_check.workdir import MOTO_CREDENTIALS, STACK_FILE, write_stack

PLAN = logical_id("Clients", "UsagePlan-default")
KEY = logical_id("Clients", "Key-default")
PLAN_KEY = logical_id("Clients", "UsagePlanKey-default")


def _previous_configuration(plan: dict[str, Any]) -> dict[str, Any]:
    """The client's resources as the earlier ``ApiClients`` construct wrote them (key in Terraform). The
    plan keeps today's tags: moto cannot tag an existing usage plan (TagResource answers 404), and the
    plan's own change is not what this test is about."""
    stageless = {k: v for k, v in plan.items() if k not in ("api_stages", "//")}
    return {
        "resource": {
            "aws_api_gateway_usage_plan": {PLAN: stageless},
            "aws_api_gateway_api_key": {
                KEY: {
                    "name": "transaction-api-dev-default",
                    "enabled": True,
                    "description": "API key of the client default",
                    "tags": {"ApiClient": "default"},
                }
            },
            "aws_api_gateway_usage_plan_key": {
                PLAN_KEY: {
                    "key_id": f"${{aws_api_gateway_api_key.{KEY}.id}}",
                    "key_type": "API_KEY",
                    "usage_plan_id": f"${{aws_api_gateway_usage_plan.{PLAN}.id}}",
                }
            },
        }
    }


def test_removed_blocks_forget_the_former_keys_and_destroy_nothing(
    toolchain: Toolchain, moto: MotoServer, synth_dir: Path, tmp_path: Path
):
    current = json.loads((synth_dir / "stacks" / TRANSACTION_STACK / STACK_FILE).read_text())
    plan = current["resource"]["aws_api_gateway_usage_plan"][PLAN]
    source = tmp_path / "previous"
    source.mkdir()
    base = {"terraform": current["terraform"], "provider": current["provider"]}
    write_stack(source, {**base, **_previous_configuration(plan)})
    (check,) = open_directory_checks(
        toolchain, [("previous", source)], tmp_path / "check", log=lambda _: None
    )
    # GIVEN a state in which Terraform created the client's key and put it in the usage plan
    check.prepare()
    check.init()
    check.apply(moto.endpoint)
    apigateway = boto3.client(
        "apigateway",
        region_name="us-east-2",
        endpoint_url=moto.endpoint,
        aws_access_key_id=MOTO_CREDENTIALS["access_key"],
        aws_secret_access_key=MOTO_CREDENTIALS["secret_key"],
    )
    plan_id = next(p["id"] for p in apigateway.get_usage_plans()["items"] if p["name"] == plan["name"])
    (key,) = apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]

    # WHEN the current configuration (its usage plan, its removed.tf) is planned and applied there
    stageless_plan = {k: v for k, v in plan.items() if k not in ("api_stages", "//")}
    write_stack(
        check.workdir,
        {
            "terraform": check.doc["terraform"],
            "provider": check.doc["provider"],
            "resource": {"aws_api_gateway_usage_plan": {PLAN: stageless_plan}},
        },
    )
    summary, actions = plan_with_removed_blocks(toolchain, check, synth_dir)
    # THEN nothing is destroyed or changed: the two former resources are only forgotten
    assert (summary["add"], summary["change"], summary["remove"]) == (0, 0, 0)
    assert {address: a for address, a in actions.items() if a != ["no-op"]} == {
        f"aws_api_gateway_api_key.{KEY}": ["forget"],
        f"aws_api_gateway_usage_plan_key.{PLAN_KEY}": ["forget"],
    }
    applied = run_terraform(
        toolchain, check.workdir, ("apply", "-input=false", "-lock=false", "m.tfplan"), check.env, 300
    )
    assert applied.returncode == 0, applied.output[-3000:]
    # AND the key is live in its usage plan, and no longer in the state
    assert apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"] == [key]
    assert apigateway.get_api_key(apiKey=key["id"])["enabled"] is True
    state = run_terraform(toolchain, check.workdir, ("state", "list"), check.env, 60).stdout.split()
    assert state == [f"aws_api_gateway_usage_plan.{PLAN}"]
