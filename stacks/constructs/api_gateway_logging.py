"""The region's API Gateway logging role: one per account and region, for every REST API there."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import Statement, allow, policy_document, service_role

# Where API Gateway writes: execution logs to groups it names itself, access logs to the group each stage
# names; this system's stages (and the convention the role relies on) use /aws/apigateway/<api>/...
EXECUTION_LOG_GROUPS = "API-Gateway-Execution-Logs_*"
ACCESS_LOG_GROUPS = "/aws/apigateway/*"


def write_every_apis_logs(account: Account) -> list[Statement]:
    """What API Gateway does with the account's logging role, on every API's execution and access log
    groups of this account and region (the managed AmazonAPIGatewayPushToCloudWatchLogs allows every
    log group of the account, and reading them back)."""
    groups = [account.arn("logs", f"log-group:{g}") for g in (EXECUTION_LOG_GROUPS, ACCESS_LOG_GROUPS)]
    return [
        allow(
            "WriteApiLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [*groups, *(f"{g}:*" for g in groups)],
        ),
        allow("DescribeApiLogGroups", ["logs:DescribeLogGroups"], [account.arn("logs", "log-group:*")]),
    ]


class ApiGatewayLogging(Construct):
    """Sets the region's API Gateway account setting (``aws_api_gateway_account``) to a role of its own.

    Default settings: the role ``name`` is assumable only by API Gateway on behalf of this account and
    may write only API Gateway's log groups (``API-Gateway-Execution-Logs_*`` and ``/aws/apigateway/*``)
    of this account and region, for every REST API there, so a second environment or another team's API
    in the same account keeps its logs. There is one setting per account and region: create this in one
    bootstrap stack of the account and region only. Destroying it resets the setting (provider 6).
    """

    def __init__(self, scope: Construct, id_: str, *, name: str, account: Account) -> None:
        super().__init__(scope, id_)
        self.role = service_role(
            self,
            "Role",
            name=name,
            service="apigateway.amazonaws.com",
            account_id=account.account_id,
            description=f"API Gateway writes the execution and access logs of every API in {account.region}",
        )
        permissions = policy_document(self, "Permissions", write_every_apis_logs(account))
        role_policy = IamRolePolicy(self, "RolePolicy", name=name, role=self.role.id, policy=permissions.json)
        self.setting = ApiGatewayAccount(
            self, "Account", cloudwatch_role_arn=self.role.arn, depends_on=[role_policy]
        )
