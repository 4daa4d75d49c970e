"""The app's transaction stack: state backend, provider and tags, the committed settings as the props of
one ``TransactionProcessing`` construct, and the stack's outputs."""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.waf import RuleActionOverride
from card_transactions.stacks.processing import TransactionProcessing
from card_transactions.stacks.props import (
    AccessProps,
    AlertTopic,
    ApiProps,
    EncryptionProps,
    FraudProps,
    FunctionsProps,
    MonitoringProps,
    NamingProps,
    NetworkProps,
    NewNetwork,
    QueuesProps,
    StorageProps,
    TransactionProcessingProps,
)

Group = TypeVar("Group")

# cdktf leaves a construct called "Default" out of logical ids: the resources keep the Terraform
# addresses they had before the system became a construct (docs/library.md).
SYSTEM_ID = "Default"


def default_tags(settings: Settings) -> list[AwsProviderDefaultTags]:
    return [
        AwsProviderDefaultTags(
            tags={
                "Project": settings.project,
                "Environment": settings.environment_suffix,
                "ManagedBy": "cdktf",
                "DataClassification": "pci-cde",
            }
        )
    ]


def same_named(
    group: type[Group], settings: Settings, *, keep: tuple[str, ...] = (), **given: object
) -> Group:
    """The props ``group`` with each field the settings hold under the same name, and ``given`` for the
    fields whose setting is named or shaped differently. The fields in ``keep`` (the construct's own:
    what a host brings) keep the construct's default; a field in none of these is an error, so a renamed
    setting cannot leave its field at the default unnoticed."""
    names = {item.name for item in fields(group)}  # type: ignore[arg-type]
    if unknown := sorted((set(given) | set(keep)) - names):
        raise ValueError(f"{group.__name__} has no fields {unknown}")
    derived = {name: getattr(settings, name) for name in names - set(given) if hasattr(settings, name)}
    if unset := sorted(names - set(derived) - set(given) - set(keep)):
        raise ValueError(f"{group.__name__} fields {unset} have no setting of their name: give or keep them")
    return group(**derived, **given)


def props_from_settings(s: Settings) -> TransactionProcessingProps:
    """The construct's props from the environment's settings: a props field takes the setting of its
    name; the others are given here."""
    return TransactionProcessingProps(
        region=s.region,
        naming=NamingProps(environment=s.environment_suffix, project=s.project),
        api=same_named(
            ApiProps,
            s,
            rate_limit=s.api_rate_limit,
            burst_limit=s.api_burst_limit,
            waf_rule_action_overrides=tuple(
                RuleActionOverride.parse(o) for o in s.resolved_waf_rule_action_overrides
            ),
        ),
        fraud=same_named(FraudProps, s),
        functions=same_named(FunctionsProps, s, architecture=s.lambda_architecture),
        queues=same_named(QueuesProps, s),
        monitoring=same_named(
            MonitoringProps,
            s,
            topic=AlertTopic(emails=s.alert_emails, https_endpoints=s.alert_https_endpoints),
            keep=("existing_topic_arn",),
        ),
        network=NetworkProps(
            vpc=NewNetwork(cidr=s.vpc_cidr, availability_zone_count=s.availability_zone_count)
        ),
        encryption=same_named(
            EncryptionProps,
            s,
            administrator_arn=s.deploy_role_arn or None,
            keep=("create_key", "existing_key_arn"),
        ),
        storage=same_named(StorageProps, s, keep=("existing_artifact_bucket",)),
        # An unset ARN setting is "", the props' None.
        access=same_named(
            AccessProps,
            s,
            operator_role_arn=s.operator_role_arn or None,
            permissions_boundary_arn=s.permissions_boundary_arn or None,
        ),
    )


class TransactionStack(TerraformStack):
    """The system of one environment, its state in the environment's state bucket."""

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        s = settings
        S3Backend(
            self,
            bucket=s.resolved_state_bucket,
            key=s.resolved_state_key,
            region=s.region,
            encrypt=True,
            # The state holds secrets (the API key value): written with the state bucket's CMK, which the
            # bucket policy demands. Unset only for offline synth; `make diff/deploy/migrate` refuse then.
            kms_key_id=s.state_kms_key_arn or None,
            dynamodb_table=s.resolved_state_lock_table,
        )
        # Terraform >= 1.10 locks with a lock object next to the state; the DynamoDB table keeps
        # locking for older clients during a migration.
        self.add_override("terraform.backend.s3.use_lockfile", True)
        AwsProvider(self, "aws", region=s.region, default_tags=default_tags(s))
        self.system = TransactionProcessing(self, SYSTEM_ID, props_from_settings(s))
        # Keys an earlier version created in Terraform: forgotten, never destroyed (``removed.tf``).
        self.forgotten_addresses = [
            *self.system.clients.former_key_addresses,
            *self.system.api.former_account_addresses,
        ]
        self._outputs(self.system)

    def _outputs(self, system: TransactionProcessing) -> None:
        outputs = {
            "api_endpoint": (
                system.api.endpoint,
                "POST here with an x-api-key header (the custom domain if set)",
            ),
            "api_usage_plan_ids": (
                system.clients.plan_ids,
                "usage plan id of each client (its keys: python -m tools.clients, never Terraform)",
            ),
            "api_key_table_name": (system.api_keys.name, "DynamoDB table of API key ids and their clients"),
            "dashboard_url": (system.monitoring.dashboard_url, "CloudWatch dashboard"),
            "merchant_table_name": (system.merchants.table.name, "DynamoDB merchant configuration table"),
            "transaction_table_name": (
                system.transactions.table.name,
                "DynamoDB processed transactions table",
            ),
            "queue_url": (system.queues.queue.url, "SQS transactions queue"),
            "dlq_url": (system.queues.dlq.url, "SQS dead-letter queue"),
            "alert_dlq_url": (
                system.alert_pipes.dlq.url,
                "SQS queue of the alerts and enqueues the pipe and its rules could not deliver",
            ),
            "sns_topic_arn": (system.alerts.arn, "SNS alerts topic"),
            "validation_lambda_arn": (system.validation.arn, "Validation function"),
            "fraud_detection_lambda_arn": (system.fraud.arn, "Fraud-detection function"),
            "failed_transaction_lambda_arn": (system.failed.arn, "Failed-transaction function"),
            "reconciler_lambda_arn": (system.reconciler.arn, "Reconciler of stale pending transactions"),
            "kms_key_arn": (system.key_arn, "Customer-managed key of the stack"),
            "operator_policy_arn": (
                system.operator.arn,
                "Attach to OPERATOR_ROLE_ARN: what docs/runbooks.md runs",
            ),
        }
        api = system.api
        if api.domain_name is not None:
            outputs["api_domain_regional_target"] = (
                api.domain_name.regional_domain_name,
                "point API_DOMAIN_NAME's CNAME (or alias, with api_domain_regional_zone_id) here",
            )
            outputs["api_domain_regional_zone_id"] = (
                api.domain_name.regional_zone_id,
                "hosted zone id of the regional target, for an alias record",
            )
        for name, (value, description) in outputs.items():
            TerraformOutput(self, name, value=value, description=description)
