"""The region's API Gateway logging setting leaves the environment stack without being reset: against a
state that holds the ``aws_api_gateway_account`` and its role as an earlier version made them, the current
configuration's ``removed`` blocks make real terraform forget them (no destroy, which in provider 6 would
reset the region's setting), and the setting still names the role (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from card_transactions.stacks.app import TRANSACTION_STACK
from card_transactions.stacks.constructs.api import FORMER_ACCOUNT_RESOURCES
from card_transactions.stacks.constructs.api_clients import logical_id
from tests.terraform.migration import plan_with_removed_blocks
from tools.terraform_check.check import open_directory_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain, run_terraform
from tools.terraform_check.workdir import MOTO_CREDENTIALS, STACK_FILE, write_stack

ACCOUNT, ROLE, ROLE_POLICY = (logical_id("Api", construct) for _, construct in FORMER_ACCOUNT_RESOURCES)
ROLE_NAME = "transaction-api-dev-apigw-cloudwatch"
ACCESS_LOGS = "/aws/apigateway/transaction-api-dev/access"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
WRITE_LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:us-east-2:123456789012:log-group:{ACCESS_LOGS}:*",
        }
    ],
}


def _previous_configuration() -> dict:
    """The account setting and its role as the environment stack wrote them before the bootstrap did."""
    return {
        "resource": {
            "aws_iam_role": {ROLE: {"name": ROLE_NAME, "assume_role_policy": json.dumps(TRUST)}},
            "aws_iam_role_policy": {
                ROLE_POLICY: {
                    "name": ROLE_NAME,
                    "role": f"${{aws_iam_role.{ROLE}.id}}",
                    "policy": json.dumps(WRITE_LOGS),
                }
            },
            "aws_api_gateway_account": {
                ACCOUNT: {
                    "cloudwatch_role_arn": f"${{aws_iam_role.{ROLE}.arn}}",
                    "depends_on": [f"aws_iam_role_policy.{ROLE_POLICY}"],
                }
            },
        }
    }


def test_removed_blocks_forget_the_former_account_setting_and_its_role(
    toolchain: Toolchain, moto: MotoServer, synth_dir: Path, tmp_path: Path
):
    current = json.loads((synth_dir / "stacks" / TRANSACTION_STACK / STACK_FILE).read_text())
    assert "aws_api_gateway_account" not in current["resource"]
    source = tmp_path / "previous"
    source.mkdir()
    base = {"terraform": current["terraform"], "provider": current["provider"]}
    write_stack(source, {**base, **_previous_configuration()})
    (check,) = open_directory_checks(
        toolchain, [("previous", source)], tmp_path / "check", log=lambda _: None
    )
    # GIVEN a state in which the environment stack set the region's logging role
    check.prepare()
    check.init()
    check.apply(moto.endpoint)
    clients = {
        service: boto3.client(
            service,
            region_name="us-east-2",
            endpoint_url=moto.endpoint,
            aws_access_key_id=MOTO_CREDENTIALS["access_key"],
            aws_secret_access_key=MOTO_CREDENTIALS["secret_key"],
        )
        for service in ("apigateway", "iam")
    }
    role_arn = clients["iam"].get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    assert clients["apigateway"].get_account()["cloudwatchRoleArn"] == role_arn

    # WHEN the current configuration (no account setting, its removed.tf) is planned and applied there
    write_stack(check.workdir, {"terraform": check.doc["terraform"], "provider": check.doc["provider"]})
    summary, actions = plan_with_removed_blocks(toolchain, check, synth_dir)
    # THEN nothing is destroyed: the setting, the role and its policy are only forgotten
    assert (summary["add"], summary["change"], summary["remove"]) == (0, 0, 0)
    assert {address: a for address, a in actions.items() if a != ["no-op"]} == {
        f"aws_api_gateway_account.{ACCOUNT}": ["forget"],
        f"aws_iam_role.{ROLE}": ["forget"],
        f"aws_iam_role_policy.{ROLE_POLICY}": ["forget"],
    }
    applied = run_terraform(
        toolchain, check.workdir, ("apply", "-input=false", "-lock=false", "m.tfplan"), check.env, 300
    )
    assert applied.returncode == 0, applied.output[-3000:]
    # AND the region's setting still names the role, which still exists, and the state holds neither
    assert clients["apigateway"].get_account()["cloudwatchRoleArn"] == role_arn
    assert clients["iam"].get_role(RoleName=ROLE_NAME)["Role"]["Arn"] == role_arn
    state = run_terraform(toolchain, check.workdir, ("state", "list"), check.env, 60).stdout.split()
    assert state == []
