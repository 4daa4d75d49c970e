"""Private VPC for the functions: no internet path at all, only DynamoDB's gateway endpoint."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_endpoint_policy import VpcEndpointPolicy
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.logs import encrypted_log_group
from card_transactions.stacks.constructs.policy import (
    Statement,
    allow,
    condition,
    policy_document,
    principals,
    service_role,
)

# No interface endpoint: from inside the VPC the functions call DynamoDB only (its gateway endpoint is
# free). Not called from the VPC: SQS (the table's stream feeds the transactions queue through
# EventBridge, and Lambda's event source mappings poll and delete for the consumers); SNS (EventBridge
# publishes the alerts from the same stream); KMS (SQS, DynamoDB and Lambda call KMS themselves,
# functions never do); CloudWatch Logs and X-Ray (the Lambda service ships logs and trace segments
# outside the function's ENI); Lambda (nothing invokes a function from the VPC).
# Zone-name suffixes the subnets may use. An allowlist keeps the zone list (and so each subnet's
# zone) fixed when AWS adds a zone to the region; it also leaves out Local and Wavelength Zones.
ZONE_LETTERS = "abcdef"


def lambda_security_group(
    scope: Construct,
    *,
    name: str,
    vpc_id: str,
    dynamodb_prefix_list_id: str,
    dynamodb_route: str = "through the gateway endpoint",
) -> SecurityGroup:
    """The functions' security group: HTTPS egress to DynamoDB's prefix list (``dynamodb_route`` says
    how the VPC reaches it), nothing else, no ingress."""
    group = SecurityGroup(
        scope,
        "LambdaSecurityGroup",
        name=f"{name}-lambda",
        vpc_id=vpc_id,
        # Kept as written: a new description replaces the group, which the functions' interfaces hold.
        description="Transaction functions: HTTPS egress to VPC endpoints and DynamoDB only",
        tags={"Name": f"{name}-lambda"},
    )
    VpcSecurityGroupEgressRule(
        scope,
        "LambdaEgressToDynamoDb",
        security_group_id=group.id,
        description=f"HTTPS to DynamoDB {dynamodb_route}",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        prefix_list_id=dynamodb_prefix_list_id,
    )
    return group


def endpoint_statements(service: str, callers: Sequence[tuple[str, Sequence[Statement]]]) -> list[Statement]:
    """An endpoint policy's statements: through the endpoint of ``service``, each caller (role ARN, its
    permission statements) may do exactly what its statements for that service allow, on the same ARNs."""
    return [
        allow(
            f"Caller{index}{statement.sid}",
            actions,
            statement.resources or [],
            principals=principals("AWS", role_arn),
        )
        for index, (role_arn, permissions) in enumerate(callers)
        for statement in permissions
        if (actions := [a for a in statement.actions or [] if a.startswith(f"{service}:")])
    ]


def interface_permissions(account: Account, create_in: Sequence[str], vpc_arn: str) -> list[Statement]:
    """What Lambda needs in a function's role to attach it to a VPC: creating interfaces only in the
    subnets and security groups ``create_in`` (ARNs); deleting and (un)assigning addresses only on
    interfaces in the VPC (``ec2:Vpc``). Describing interfaces has no resource-level permission in EC2,
    so it takes "*"."""
    interfaces = account.arn("ec2", "network-interface/*")
    return [
        allow("CreateInterfacesInOurSubnets", ["ec2:CreateNetworkInterface"], [interfaces, *create_in]),
        allow(
            "ManageInterfacesInOurVpc",
            ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            [interfaces],
            condition=[condition("ArnEquals", "ec2:Vpc", vpc_arn)],
        ),
        allow("DescribeInterfaces", ["ec2:DescribeNetworkInterfaces"], ["*"]),
    ]


class PrivateNetwork(Construct):
    """VPC with private subnets in ``az_count`` zones and no route to the internet.

    Default settings:
      * no internet gateway, no NAT gateway, no public IPs on launch;
      * subnets in the first ``az_count`` available zones named ``<region>a`` to ``<region>f``
        (an allowlist, so a zone AWS adds later never moves a subnet);
      * one route table per subnet with only the local route and the DynamoDB gateway endpoint;
      * no interface endpoint: the functions call nothing else from the VPC;
      * the default security group is taken over with no rules (closed);
      * the Lambda security group allows egress on 443 only, to the DynamoDB prefix list (gateway
        endpoint), and no ingress;
      * ``restrict_endpoints`` puts an endpoint policy on the gateway endpoint naming the function roles
        and the exact ARNs they use;
      * flow logs of ALL traffic to a KMS-encrypted log group kept ``retention_days``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        cidr: str,
        az_count: int,
        account: Account,
        kms_key_arn: str,
        retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self._vpc_and_subnets(name, cidr, az_count, account.region)
        self._endpoint_and_security_group(name, account.region)
        self.security_group_ids = [self.lambda_security_group.id]
        self._flow_logs(name, account.account_id, kms_key_arn, retention_days)

    def _vpc_and_subnets(self, name: str, cidr: str, az_count: int, region: str) -> None:
        """The VPC (default security group closed) and one private subnet and route table per zone."""
        self.vpc = Vpc(
            self,
            "Vpc",
            cidr_block=cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
        )
        DefaultSecurityGroup(
            self, "DefaultSecurityGroup", vpc_id=self.vpc.id, tags={"Name": f"{name}-default-closed"}
        )
        zones = DataAwsAvailabilityZones(
            self,
            "Zones",
            state="available",
            filter=[
                DataAwsAvailabilityZonesFilter(
                    name="zone-name", values=[f"{region}{letter}" for letter in ZONE_LETTERS]
                )
            ],
        )
        subnet_blocks = list(
            ipaddress.ip_network(cidr).subnets(new_prefix=min(ipaddress.ip_network(cidr).prefixlen + 4, 28))
        )
        self.subnets: list[Subnet] = []
        self.route_tables: list[RouteTable] = []
        for index in range(az_count):
            subnet = Subnet(
                self,
                f"PrivateSubnet{index + 1}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnet_blocks[index]),
                availability_zone=Fn.element(zones.names, index),
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{index + 1}", "Tier": "private"},
            )
            table = RouteTable(
                self,
                f"PrivateRouteTable{index + 1}",
                vpc_id=self.vpc.id,
                tags={"Name": f"{name}-private-{index + 1}"},
            )
            RouteTableAssociation(
                self, f"PrivateRouteTableAssociation{index + 1}", subnet_id=subnet.id, route_table_id=table.id
            )
            self.subnets.append(subnet)
            self.route_tables.append(table)
        self.subnet_ids = [s.id for s in self.subnets]

    def _endpoint_and_security_group(self, name: str, region: str) -> None:
        """The DynamoDB gateway endpoint and the Lambda security group."""
        self.dynamodb_endpoint = VpcEndpoint(
            self,
            "DynamoDbEndpoint",
            vpc_id=self.vpc.id,
            vpc_endpoint_type="Gateway",
            service_name=f"com.amazonaws.{region}.dynamodb",
            route_table_ids=[t.id for t in self.route_tables],
            tags={"Name": f"{name}-dynamodb"},
        )
        self.lambda_security_group = lambda_security_group(
            self,
            name=name,
            vpc_id=self.vpc.id,
            dynamodb_prefix_list_id=self.dynamodb_endpoint.prefix_list_id,
        )

    def restrict_endpoints(self, callers: Sequence[tuple[str, Sequence[Statement]]]) -> None:
        """The DynamoDB endpoint's policy (call once): through it, each caller (role ARN, its permission
        statements) may do exactly what its statements for DynamoDB allow, on the same ARNs; nothing else
        passes, so no function can reach another account's table through the VPC."""
        endpoint = self.dynamodb_endpoint
        statements = endpoint_statements("dynamodb", callers)
        document = policy_document(self, f"{endpoint.node.id}PolicyDocument", statements)
        VpcEndpointPolicy(
            self, f"{endpoint.node.id}Policy", vpc_endpoint_id=endpoint.id, policy=document.json
        )

    def function_interface_permissions(self, account: Account) -> list[Statement]:
        """What Lambda needs in a function's role to attach it to this VPC, as narrow as EC2 allows:
        creating interfaces only in these subnets with the Lambda security group; deleting and
        (un)assigning addresses only on interfaces in this VPC (``ec2:Vpc``). Describing interfaces has
        no resource-level permission in EC2, so it takes "*"."""
        create_in = [*(s.arn for s in self.subnets), self.lambda_security_group.arn]
        return interface_permissions(account, create_in, self.vpc.arn)

    def _flow_logs(self, name: str, account_id: str, kms_key_arn: str, retention_days: int) -> None:
        log_group = encrypted_log_group(
            self,
            "FlowLogGroup",
            name=f"/vpc/flow-logs/{name}",
            kms_key_arn=kms_key_arn,
            retention_days=retention_days,
        )
        role = service_role(
            self,
            "FlowLogRole",
            name=f"{name}-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            account_id=account_id,
            description="Delivers this VPC's flow logs to CloudWatch Logs",
        )
        permissions = policy_document(
            self,
            "FlowLogPermissions",
            [
                allow(
                    "WriteFlowLogs",
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [log_group.arn, f"{log_group.arn}:*"],
                ),
            ],
        )
        IamRolePolicy(self, "FlowLogRolePolicy", role=role.id, policy=permissions.json)
        FlowLog(
            self,
            "FlowLog",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": f"{name}-flow-logs"},
        )
