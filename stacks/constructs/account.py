"""Where a stack deploys: its account, partition and region, passed to the constructs as one value."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct


@dataclass(frozen=True)
class Account:
    """The account id and partition are references to the stack's data sources (known at apply)."""

    account_id: str
    partition: str
    region: str

    @classmethod
    def of(cls, stack: Construct, region: str) -> Account:
        """Read the account and partition with data sources ``Caller`` and ``Partition`` of ``stack``."""
        return cls(
            account_id=DataAwsCallerIdentity(stack, "Caller").account_id,
            partition=DataAwsPartition(stack, "Partition").partition,
            region=region,
        )

    def arn(self, service: str, resource: str) -> str:
        """The ARN of ``resource`` of ``service`` in this account and region."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    @property
    def root(self) -> str:
        """The account principal (IAM policies of the account decide)."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    @property
    def alarms(self) -> str:
        """Every CloudWatch alarm of this account and region."""
        return self.arn("cloudwatch", "alarm:*")
