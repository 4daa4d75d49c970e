"""A host app placing the transaction system in its own stack, bringing its own VPC and KMS key, and
its alert topic and buckets.

The host owns the provider, the backend and its network; the construct runs its functions in the host's
private subnets, encrypts everything with the host's key, alerts on the host's topic and keeps the Lambda
packages in the host's bucket.

Synthesize with the package installed (``pip install card_transactions_cdktf-<version>-py3-none-any.whl``):
``python main.py`` writes ``cdktf.out/``; from a checkout:
``PYTHONPATH=. .venv/bin/python examples/bring_your_own/main.py``.
"""

from __future__ import annotations

import card_transactions

card_transactions.activate()  # optional, before any CDK import: the fast provider import and the pinned Node

from cdktf import App, TerraformOutput, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup  # noqa: E402
from cdktf_cdktf_provider_aws.flow_log import FlowLog  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: E402
from cdktf_cdktf_provider_aws.subnet import Subnet  # noqa: E402
from cdktf_cdktf_provider_aws.vpc import Vpc  # noqa: E402
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint  # noqa: E402
from constructs import Construct  # noqa: E402

from card_transactions import (  # noqa: E402
    EncryptionProps,
    ExistingVpc,
    MonitoringProps,
    NamingProps,
    NetworkProps,
    StorageProps,
    TransactionProcessing,
    TransactionProcessingProps,
)

REGION = "us-east-2"
# The host's key: its policy lets CloudWatch Logs, SNS, alarms and this account's services use it.
HOST_KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/0f3c8a52-8a0e-4f6e-9b8f-2a1d6c7e9b10"
# The host's on-call topic: its policy lets CloudWatch alarms and the alert pipes publish.
HOST_TOPIC_ARN = "arn:aws:sns:us-east-2:123456789012:payments-alerts"
# The host's versioned package bucket, and the bucket its S3 access logs go to.
HOST_ARTIFACT_BUCKET = "payments-platform-lambda-packages"
HOST_ACCESS_LOG_BUCKET = "payments-platform-access-logs"
HOST_FLOW_LOG_BUCKET_ARN = "arn:aws:s3:::payments-platform-flow-logs"


class PaymentsPlatformStack(TerraformStack):
    """The host team's stack: its network, and the transaction system inside it."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        AwsProvider(self, "aws", region=REGION, default_tags=[{"tags": {"Team": "payments-platform"}}])
        vpc = Vpc(
            self, "HostVpc", cidr_block="10.60.0.0/16", enable_dns_support=True, enable_dns_hostnames=True
        )
        # The host's own controls of its VPC: flow logs, and the default security group closed.
        FlowLog(
            self,
            "HostFlowLog",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="s3",
            log_destination=HOST_FLOW_LOG_BUCKET_ARN,
        )
        DefaultSecurityGroup(self, "HostDefaultSecurityGroup", vpc_id=vpc.id)
        subnets = [
            Subnet(
                self,
                f"HostPrivateSubnet{index}",
                vpc_id=vpc.id,
                cidr_block=f"10.60.{index}.0/24",
                availability_zone=f"{REGION}{zone}",
                map_public_ip_on_launch=False,
            )
            for index, zone in enumerate("ab", start=1)
        ]
        # The subnets' one route out: the host's DynamoDB gateway endpoint (the functions call nothing
        # else from the VPC), given to the system alone: the construct writes its policy.
        dynamodb = VpcEndpoint(
            self,
            "HostDynamoDbEndpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{REGION}.dynamodb",
            vpc_endpoint_type="Gateway",
            route_table_ids=[vpc.main_route_table_id],
        )
        system = TransactionProcessing(
            self,
            "Transactions",
            TransactionProcessingProps(
                region=REGION,
                naming=NamingProps(environment="staging", prefix="pay-"),
                network=NetworkProps(
                    existing_vpc=ExistingVpc(
                        vpc_id=vpc.id,
                        private_subnet_ids=tuple(s.id for s in subnets),
                        endpoint_ids=(("dynamodb", dynamodb.id),),
                    )
                ),
                encryption=EncryptionProps(existing_key_arn=HOST_KEY_ARN),
                monitoring=MonitoringProps(existing_topic_arn=HOST_TOPIC_ARN),
                storage=StorageProps(
                    existing_artifact_bucket=HOST_ARTIFACT_BUCKET, access_log_bucket=HOST_ACCESS_LOG_BUCKET
                ),
            ),
        )
        TerraformOutput(self, "api_endpoint", value=system.api.endpoint)


def build_app(outdir: str | None = None) -> App:
    app = App(outdir=outdir) if outdir else App()
    PaymentsPlatformStack(app, "payments-platform")
    return app


if __name__ == "__main__":
    build_app().synth()
