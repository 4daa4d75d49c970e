"""Encrypted, retained CloudWatch log groups, and the card-data masking of the groups requests reach."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_data_protection_policy import CloudwatchLogDataProtectionPolicy
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocument as ProtectionDocument,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentConfiguration as Configuration,
)
from cdktf_cdktf_provider_aws.data_aws_cloudwatch_log_data_protection_policy_document import (
    DataAwsCloudwatchLogDataProtectionPolicyDocumentConfigurationCustomDataIdentifier as CustomIdentifier,
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

# CloudWatch Logs' managed data identifiers for cardholder data (PCI DSS 3.3, 3.4). The managed
# CreditCardNumber only matches with a keyword ("card", "visa", ...) nearby.
CARD_DATA_IDENTIFIERS = ("CreditCardNumber", "CreditCardExpiration", "CreditCardSecurityCode")
# A custom identifier needs no keyword: the issuer prefixes of handlers.domain.card_numbers.NETWORKS
# (first digit 2-6) followed by the rest of a 12-19 digit number, digits optionally single-spaced or
# hyphenated, not inside a longer digit run. No Luhn check: a regular expression cannot compute one, so
# it also masks some ids with a card-like shape (masking only; requests are refused by the function).
PAN_IDENTIFIER_NAME = "PanWithoutKeyword"
PROTECTION_SUFFIX = "DataProtection"  # construct id of a group's policy: the group's id + this
PAN_PATTERN = r"(^|[^0-9])[2-6]([ -]?[0-9]){11,18}([^0-9]|$)"


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
        _mask_card_data(scope, f"{id_}{PROTECTION_SUFFIX}", group, partition=card_data_partition)
    return group


def card_data_log_groups(scope: Construct) -> list[CloudwatchLogGroup]:
    """The log groups under ``scope`` that mask card data (made with ``card_data_partition``)."""
    return [
        group
        for group in scope.node.find_all()
        if isinstance(group, CloudwatchLogGroup)
        and group.node.scope is not None
        and group.node.scope.node.try_find_child(f"{group.node.id}{PROTECTION_SUFFIX}") is not None
    ]


def _mask_card_data(scope: Construct, id_: str, group: CloudwatchLogGroup, *, partition: str) -> None:
    """A data protection policy: findings audited (counted in CloudWatch metrics) and the data masked
    for every reader without ``logs:Unmask``."""
    identifiers = [
        *(f"arn:{partition}:dataprotection::aws:data-identifier/{i}" for i in CARD_DATA_IDENTIFIERS),
        PAN_IDENTIFIER_NAME,
    ]
    document = ProtectionDocument(
        scope,
        f"{id_}Document",
        name=f"{id_}-card-data",
        configuration=Configuration(
            custom_data_identifier=[CustomIdentifier(name=PAN_IDENTIFIER_NAME, regex=PAN_PATTERN)]
        ),
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
