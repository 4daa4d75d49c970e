"""Encrypted, retained CloudWatch log groups, and the card-data masking of the groups requests reach."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_data_protection_policy import CloudwatchLogDataProtectionPolicy
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocument as ProtectionDocument,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatement as ProtectionStatement,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatementOperation as Operation,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatementOperationAudit as Audit,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatementOperationAuditFindingsDestination as Findings,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatementOperationDeidentify as Deidentify,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentStatementOperationDeidentifyMaskConfig as Mask,
)
from constructs import Construct

# CloudWatch Logs' managed data identifiers for cardholder data (PCI DSS 3.3, 3.4).
CARD_DATA_IDENTIFIERS = ("CreditCardNumber", "CreditCardExpiration", "CreditCardSecurityCode")


def encrypted_log_group(
    scope: Construct,
    id_: str,
    *,
    name: str,
    kms_key_arn: str,
    retention_days: int,
    card_data_partition: str | None = None,
) -> CloudwatchLogGroup:
    """A log group encrypted with the stack's key and kept ``retention_days`` (>= 365, PCI DSS 10.5.1).
    Given the partition, a group that requests reach also masks card numbers, expiry dates and codes."""
    group = CloudwatchLogGroup(
        scope, id_, name=name, kms_key_id=kms_key_arn, retention_in_days=retention_days
    )
    if card_data_partition is not None:
        _mask_card_data(scope, f"{id_}DataProtection", group, partition=card_data_partition)
    return group


def _mask_card_data(scope: Construct, id_: str, group: CloudwatchLogGroup, *, partition: str) -> None:
    """A data protection policy: findings audited (counted in CloudWatch metrics) and the data masked
    for every reader without ``logs:Unmask``."""
    identifiers = [f"arn:{partition}:dataprotection::aws:data-identifier/{i}" for i in CARD_DATA_IDENTIFIERS]
    document = ProtectionDocument(
        scope,
        f"{id_}Document",
        name=f"{id_}-card-data",
        statement=[
            ProtectionStatement(
                sid="AuditCardData",
                data_identifiers=identifiers,
                operation=Operation(audit=Audit(findings_destination=Findings())),
            ),
            ProtectionStatement(
                sid="MaskCardData",
                data_identifiers=identifiers,
                operation=Operation(deidentify=Deidentify(mask_config=Mask())),
            ),
        ],
    )
    CloudwatchLogDataProtectionPolicy(scope, id_, log_group_name=group.name, policy_document=document.json)
