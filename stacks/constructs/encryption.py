"""Customer-managed KMS key used by every encrypted resource of the stack."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import (
    Statement,
    allow,
    condition,
    policy_document,
    principals,
)

# Changing the key or its policy, disabling or deleting it: the key administrator's alone when one is
# named. Reading the key's configuration (Describe*, Get*, List*) stays with the account (plans refresh it).
KEY_MANAGEMENT_ACTIONS = (
    "kms:CreateAlias",
    "kms:Enable*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
KEY_READ_ACTIONS = ("kms:Describe*", "kms:Get*", "kms:List*")
KEY_USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
# The services that use the key on a caller's behalf (tables, queues, topic, Lambda environment, buckets,
# the reconciler's encrypted schedule, X-Ray traces, the alert pipes).
VIA_SERVICES = ("dynamodb", "sqs", "sns", "lambda", "s3", "scheduler", "xray", "pipes", "events")
# The state key's: the state and access-log buckets (S3) and the lock table (DynamoDB).
STATE_VIA_SERVICES = ("s3", "dynamodb")
# Grants exist only for AWS services using the key on the caller's behalf (kms:GrantIsForAWSResource).
GRANT_FOR_AWS_RESOURCES = ("Bool", "kms:GrantIsForAWSResource", "true")


def key_administration(key: str, administrator: str) -> list[Statement]:
    """Managing the key, and granting it only to AWS services that use it for a resource."""
    return [
        allow(
            "KeyAdministration", KEY_MANAGEMENT_ACTIONS, [key], principals=principals("AWS", administrator)
        ),
        allow(
            "GrantsOnlyForAwsResources",
            ["kms:CreateGrant"],
            [key],
            principals=principals("AWS", administrator),
            condition=[condition(*GRANT_FOR_AWS_RESOURCES)],
        ),
    ]


def key_configuration_reads(key: str, account: Account) -> Statement:
    root = account.root
    return allow("ReadKeyConfiguration", KEY_READ_ACTIONS, [key], principals=principals("AWS", root))


def use_through_aws_services(
    key: str, account: Account, services: Sequence[str] = VIA_SERVICES
) -> list[Statement]:
    """IAM policies of this account may grant use of the key, but only through ``services``; grants only
    for the AWS resources those services make."""
    through = [
        condition("StringEquals", "kms:CallerAccount", account.account_id),
        condition(
            "StringEquals", "kms:ViaService", *(f"{svc}.{account.region}.amazonaws.com" for svc in services)
        ),
    ]
    root = principals("AWS", account.root)
    return [
        allow("UseThroughAwsServices", KEY_USE_ACTIONS, [key], principals=root, condition=through),
        allow(
            "GrantThroughAwsServices",
            ["kms:CreateGrant"],
            [key],
            principals=root,
            condition=[*through, condition(*GRANT_FOR_AWS_RESOURCES)],
        ),
    ]


def cloudwatch_logs(key: str, account: Account) -> Statement:
    """CloudWatch Logs encrypts this account's log groups in this region (its SourceArn equivalent is
    the log group ARN in the encryption context)."""
    return allow(
        "CloudWatchLogs",
        KEY_USE_ACTIONS,
        [key],
        principals=principals("Service", f"logs.{account.region}.amazonaws.com"),
        condition=[
            condition(
                "ArnLike",
                "kms:EncryptionContext:aws:logs:arn",
                account.arn("logs", "log-group:*"),
            )
        ],
    )


def service_on_behalf_of(
    sid: str, service: str, actions: Sequence[str], key: str, *, source_arns: Sequence[str], account: Account
) -> Statement:
    """``service`` may use the key only for requests from this account's ``source_arns``."""
    return allow(
        sid,
        actions,
        [key],
        principals=principals("Service", service),
        condition=[
            condition("StringEquals", "aws:SourceAccount", account.account_id),
            condition("ArnLike", "aws:SourceArn", *source_arns),
        ],
    )


def alarm_notifications(key: str, account: Account) -> Statement:
    """CloudWatch alarms of this account publish to the encrypted topic."""
    alarms = account.alarms
    return service_on_behalf_of(
        "CloudWatchAlarms",
        "cloudwatch.amazonaws.com",
        ("kms:Decrypt", "kms:GenerateDataKey*"),
        key,
        source_arns=[alarms],
        account=account,
    )


def event_deliveries(key: str, account: Account) -> Statement:
    """EventBridge of this account: its encrypted buses, and its rules' deliveries to the encrypted topic
    and queues (the transactions queue, the alert dead-letter queue)."""
    return service_on_behalf_of(
        "EventBridge",
        "events.amazonaws.com",
        ("kms:Decrypt", "kms:GenerateDataKey*"),
        key,
        source_arns=[account.arn("events", "*")],
        account=account,
    )


def topic_deliveries(key: str, account: Account) -> Statement:
    """SNS topics of this account deliver to encrypted SQS subscriptions."""
    topics = account.arn("sns", "*")
    return service_on_behalf_of(
        "SnsDeliveries",
        "sns.amazonaws.com",
        ("kms:Decrypt", "kms:GenerateDataKey*"),
        key,
        source_arns=[topics],
        account=account,
    )


def s3_access_log_delivery(key: str, account: Account, source_buckets: Sequence[str]) -> Statement:
    """S3 server access logging writes the logs of ``source_buckets`` (ARNs) to a bucket under this key."""
    return service_on_behalf_of(
        "S3AccessLogDelivery",
        "logging.s3.amazonaws.com",
        ("kms:GenerateDataKey",),
        key,
        source_arns=source_buckets,
        account=account,
    )


class EncryptionKey(Construct):
    """A symmetric customer-managed key with an explicit, scoped key policy.

    Default settings:
      * automatic rotation every 365 days, 30-day deletion window, enabled;
      * no ``kms:*`` and no ``*`` principal. Key management (policy, rotation, disable, deletion,
        grants revocation, tags) belongs to ``administrator`` (the deploy role) when one is named, else
        to the account's IAM policies; reading the key's configuration stays with the account;
      * IAM policies of this account may use the key only through DynamoDB, SQS, SNS, Lambda and S3
        (``kms:ViaService``; also Scheduler, EventBridge Pipes and EventBridge), never directly;
      * each service principal is bound to this account and to its source: CloudWatch Logs by the log
        group in the encryption context, CloudWatch alarms, SNS and EventBridge by ``aws:SourceArn``;
      * ``s3_log_delivery_sources`` (bucket ARNs) lets S3 server access logging write those buckets'
        logs to a bucket encrypted with this key;
      * ``kms:CreateGrant`` only with ``kms:GrantIsForAWSResource`` (a service granting itself use for
        a resource), for the administrator as for the account;
      * ``state_only``: the state key, used through S3 and DynamoDB only, trusting no CloudWatch Logs,
        alarms, SNS or EventBridge.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        account: Account,
        administrator: str | None = None,
        s3_log_delivery_sources: Sequence[str] = (),
        state_only: bool = False,
    ) -> None:
        super().__init__(scope, id_)
        # In a key policy the resource is the key itself; the ARN pattern names this account's keys so
        # no statement grants on "*".
        this_key = account.arn("kms", "key/*")
        root = account.root
        statements = [
            *key_administration(this_key, administrator or root),
            key_configuration_reads(this_key, account),
            *use_through_aws_services(this_key, account, STATE_VIA_SERVICES if state_only else VIA_SERVICES),
        ]
        if not state_only:
            statements += [
                cloudwatch_logs(this_key, account),
                alarm_notifications(this_key, account),
                topic_deliveries(this_key, account),
                event_deliveries(this_key, account),
            ]
        if s3_log_delivery_sources:
            statements.append(s3_access_log_delivery(this_key, account, s3_log_delivery_sources))
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
