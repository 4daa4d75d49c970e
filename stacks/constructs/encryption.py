"""Customer-managed KMS key used by every encrypted resource of the stack."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from stacks.constructs.account import Account
from stacks.constructs.policy import allow, condition, policy_document, principals

KEY_ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


class EncryptionKey(Construct):
    """A symmetric customer-managed key with an explicit, scoped key policy.

    Default settings:
      * automatic rotation every 365 days, 30-day deletion window, enabled;
      * no ``kms:*`` and no ``*`` principal: the account can administer the key and delegate its use
        to IAM policies; the services that encrypt on our behalf are allowed by name, limited to this
        account (CloudWatch Logs by log-group encryption context; SQS, SNS and DynamoDB through
        ``kms:ViaService``; CloudWatch alarms may publish to the encrypted SNS topic);
      * ``s3_log_delivery=True`` also lets S3 server access logging (``logging.s3.amazonaws.com``)
        write to a bucket encrypted with this key, for this account only.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        account: Account,
        s3_log_delivery: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        account_id, partition, region = account.account_id, account.partition, account.region
        root = f"arn:{partition}:iam::{account_id}:root"
        # In a key policy the resource is the key itself; the ARN pattern names this account's keys so
        # no statement grants on "*".
        this_key = f"arn:{partition}:kms:{region}:{account_id}:key/*"
        same_account = condition("StringEquals", "aws:SourceAccount", account_id)
        statements = [
            allow("KeyAdministration", KEY_ADMIN_ACTIONS, [this_key], principals=principals("AWS", root)),
            allow(
                "UseThroughAwsServices",
                (*KEY_USE_ACTIONS, "kms:CreateGrant"),
                [this_key],
                principals=principals("AWS", root),
                condition=[
                    condition("StringEquals", "kms:CallerAccount", account_id),
                    condition(
                        "StringEquals",
                        "kms:ViaService",
                        *(f"{svc}.{region}.amazonaws.com" for svc in ("dynamodb", "sqs", "sns", "lambda")),
                    ),
                ],
            ),
            allow(
                "DelegateUseToIamPolicies",
                ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"),
                [this_key],
                principals=principals("AWS", root),
            ),
            allow(
                "CloudWatchLogs",
                KEY_USE_ACTIONS,
                [this_key],
                principals=principals("Service", f"logs.{region}.amazonaws.com"),
                condition=[
                    condition(
                        "ArnLike",
                        "kms:EncryptionContext:aws:logs:arn",
                        f"arn:{partition}:logs:{region}:{account_id}:log-group:*",
                    )
                ],
            ),
            allow(
                "QueueTopicAndAlarmServices",
                ("kms:Decrypt", "kms:GenerateDataKey*"),
                [this_key],
                principals=principals(
                    "Service", "sqs.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"
                ),
                condition=[same_account],
            ),
        ]
        if s3_log_delivery:
            statements.append(
                allow(
                    "S3AccessLogDelivery",
                    ("kms:GenerateDataKey",),
                    [this_key],
                    principals=principals("Service", "logging.s3.amazonaws.com"),
                    condition=[same_account],
                )
            )
        self.policy = policy_document(self, "Policy", statements)
        self.key = KmsKey(
            self,
            "Key",
            description=f"{alias}: tables, queues, topic, logs and Lambda environment",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            is_enabled=True,
            policy=self.policy.json,
        )
        KmsAlias(self, "Alias", name=f"alias/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
