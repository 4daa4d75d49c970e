"""Encrypted, retained CloudWatch log groups."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct


def encrypted_log_group(
    scope: Construct, id_: str, *, name: str, kms_key_arn: str, retention_days: int
) -> CloudwatchLogGroup:
    """A log group encrypted with the stack's key and kept ``retention_days`` (>= 365, PCI DSS 10.5.1)."""
    return CloudwatchLogGroup(scope, id_, name=name, kms_key_id=kms_key_arn, retention_in_days=retention_days)
