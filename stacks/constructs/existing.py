"""Parts a host brings instead of having them created: its VPC and its alert topic.

Each offers what the system uses of the part it stands for (``PrivateNetwork``, ``AlertsTopic``), and
leaves the part's own policies to its owner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_prefix_list import DataAwsPrefixList
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint_policy import VpcEndpointPolicy
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.network import (
    endpoint_statements,
    interface_permissions,
    lambda_security_group,
)
from card_transactions.stacks.constructs.policy import Statement, policy_document


class ExistingNetwork(Construct):
    """The host's VPC: the functions run in its private subnets.

    Default settings:
      * the VPC must let the subnets reach DynamoDB (a gateway endpoint or a NAT gateway), nothing
        else; its flow logs, route tables and default security group stay the host's;
      * without ``security_group_ids``, one Lambda security group is created in the VPC: egress on 443
        only, to DynamoDB's prefix list, no ingress;
      * ``endpoint_ids`` (service -> endpoint id, e.g. ``{"dynamodb": "vpce-..."}``) names endpoints given to
        this system alone: ``restrict_endpoints`` writes their policy (one policy per endpoint, so it
        replaces the one they have); other endpoints' policies are left alone;
      * the functions' roles create network interfaces only in these subnets with these groups.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        vpc_id: str,
        subnet_ids: Sequence[str],
        account: Account,
        security_group_ids: Sequence[str] = (),
        endpoint_ids: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.vpc_id = vpc_id
        self.subnet_ids = list(subnet_ids)
        self.endpoint_ids = dict(endpoint_ids or {})
        self._account = account
        self.security_group_ids = list(security_group_ids) or [self._lambda_security_group(name).id]

    def _lambda_security_group(self, name: str) -> SecurityGroup:
        dynamodb = DataAwsPrefixList(
            self, "DynamoDbPrefixList", name=f"com.amazonaws.{self._account.region}.dynamodb"
        )
        return lambda_security_group(
            self,
            name=name,
            vpc_id=self.vpc_id,
            dynamodb_prefix_list_id=dynamodb.id,
            dynamodb_route="(the VPC's endpoint or NAT)",
        )

    def restrict_endpoints(self, callers: Sequence[tuple[str, Sequence[Statement]]]) -> None:
        """The endpoint policy of each endpoint in ``endpoint_ids`` (as ``PrivateNetwork`` writes it)."""
        for service, endpoint_id in self.endpoint_ids.items():
            document = policy_document(
                self, f"{service}EndpointPolicyDocument", endpoint_statements(service, callers)
            )
            VpcEndpointPolicy(
                self, f"{service}EndpointPolicy", vpc_endpoint_id=endpoint_id, policy=document.json
            )

    def function_interface_permissions(self, account: Account) -> list[Statement]:
        subnets = [account.arn("ec2", f"subnet/{subnet}") for subnet in self.subnet_ids]
        groups = [account.arn("ec2", f"security-group/{group}") for group in self.security_group_ids]
        return interface_permissions(account, [*subnets, *groups], account.arn("ec2", f"vpc/{self.vpc_id}"))


class ExistingTopic:
    """The host's SNS topic for alerts and alarms. Its policy stays the host's: it must let CloudWatch
    alarms of this account and EventBridge for the alert rules (``alert_pipes.rule_arns``) publish, and
    its key let them use it."""

    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.name = Fn.element(Fn.split(":", arn), 5)

    def restrict(
        self, *, publishers: Sequence[str], event_rules: Sequence[str] = (), managers: Sequence[str] = ()
    ) -> None:
        """Nothing to write: the topic's policy is its owner's."""
