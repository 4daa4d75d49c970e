"""The transaction-processing system: reads like the architecture diagram in the README."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.xray_encryption_config import XrayEncryptionConfig
from constructs import Construct

from handlers.domain.schema import load_transaction_schema
from settings.catalog import (
    FAILED_TRANSACTION,
    FRAUD_DETECTION,
    MERCHANT_INDEX,
    METRICS_NAMESPACE,
    PENDING_INDEX,
    RECONCILER,
    VALIDATION,
    FunctionResources,
)
from stacks.config import Settings
from stacks.constructs.account import Account
from stacks.constructs.alert_pipes import AlertPipes
from stacks.constructs.alerts import AlertsTopic
from stacks.constructs.api import STAGE_NAME, TransactionApi
from stacks.constructs.api_clients import ApiClients
from stacks.constructs.code_signing import CodeSigning
from stacks.constructs.encryption import EncryptionKey
from stacks.constructs.logs import card_data_log_groups
from stacks.constructs.monitoring import MonitoredResources, Monitoring
from stacks.constructs.network import PrivateNetwork
from stacks.constructs.operators import OperatedResources, OperatorPolicy
from stacks.constructs.policy import apply_permissions_boundary
from stacks.constructs.python_function import FunctionPlatform, PythonFunction
from stacks.constructs.queues import TransactionQueues
from stacks.constructs.schedule import FunctionSchedule
from stacks.constructs.tables import EncryptedTable
from stacks.constructs.tracing import ApiTraceSampling
from stacks.constructs.waf import ApiFirewall, RateLimits, RuleActionOverride


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


class TransactionStack(TerraformStack):
    """API Gateway (+WAF) -> validation -> SQS (+DLQ) -> fraud detection -> DynamoDB; its stream -> alerts."""

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
        account = Account.of(self, s.region)

        key = EncryptionKey(
            self,
            "Encryption",
            alias=s.name(s.project),
            account=account,
            administrator=s.deploy_role_arn or None,
        )
        if s.manage_xray_encryption:
            XrayEncryptionConfig(self, "TraceEncryption", type="KMS", key_id=key.arn)
        network = PrivateNetwork(
            self,
            "Network",
            name=s.name(s.project),
            cidr=s.vpc_cidr,
            az_count=s.availability_zone_count,
            account=account,
            kms_key_arn=key.arn,
            retention_days=s.log_retention_days,
        )
        merchants = EncryptedTable(
            self,
            "MerchantTable",
            name=s.merchant_table_name,
            hash_key="merchant_id",
            kms_key_arn=key.arn,
            deletion_protection=s.deletion_protection,
        )
        api_keys = EncryptedTable(
            self,
            "ApiKeyTable",
            name=s.api_key_table_name,
            hash_key="key_id",
            kms_key_arn=key.arn,
            deletion_protection=s.deletion_protection,
        )
        transactions = EncryptedTable(
            self,
            "TransactionTable",
            name=s.transaction_table_name,
            hash_key="transaction_id",
            kms_key_arn=key.arn,
            deletion_protection=s.deletion_protection,
            merchant_index=True,
            pending_index=True,
            stream=True,
        )
        queues = TransactionQueues(
            self,
            "Queues",
            queue_name=s.name("transaction-queue"),
            dlq_name=s.name("transaction-dlq"),
            async_failures_name=s.name("lambda-async-failures"),
            kms_key_arn=key.arn,
            consumer_timeout_seconds=s.fraud_detection.timeout_seconds,
            dlq_consumer_timeout_seconds=s.failed_transaction.timeout_seconds,
            max_receive_count=s.max_receive_count,
        )
        alerts = AlertsTopic(
            self,
            "Alerts",
            name=s.name("transaction-alerts"),
            kms_key_arn=key.arn,
            account=account,
            emails=s.alert_emails,
            https_endpoints=s.alert_https_endpoints,
        )
        # Alerts from the committed state: the table's stream -> a pipe -> the alert bus -> rules -> topic.
        alert_pipes = AlertPipes(
            self,
            "AlertPipes",
            name=s.name("transaction-alerts"),
            stream_arn=transactions.stream_arn,
            topic_arn=alerts.arn,
            kms_key_arn=key.arn,
            account=account,
            alert_on_review_required=s.alert_on_review_required,
        )

        code_signing = CodeSigning(
            self,
            "CodeSigning",
            name=s.name(s.project),
            bucket_name=s.artifact_bucket,
            kms_key_arn=key.arn,
            access_log_bucket=s.access_log_bucket,
        )
        api_name = s.api_name
        # API clients: usage plans here; keys by `python -m tools.clients`, mapped to clients by api_keys
        clients = ApiClients(self, "Clients", api_name=api_name, clients=s.clients)
        self.forgotten_addresses = clients.former_key_addresses
        resources = FunctionResources(
            merchant_table_name=merchants.name,
            queue_url=queues.queue.url,
            transaction_table_name=transactions.name,
            api_key_table_name=api_keys.name,
        )
        platform = FunctionPlatform(
            account=account,
            architecture=s.lambda_architecture,
            network=network,
            kms_key_arn=key.arn,
            retention_days=s.log_retention_days,
            async_failure_queue_arn=queues.async_failures.arn,
            code_signing=code_signing,
        )
        validation = PythonFunction(
            self,
            "ValidationFunction",
            function=VALIDATION,
            function_name=s.function_names[VALIDATION.entry_point],
            description="Validates submitted transactions and queues them; serves their status",
            sizing=s.validation,
            environment=s.function_environment(VALIDATION, resources),
            permissions=[
                merchants.allow("ReadMerchants", "GetItem"),
                api_keys.allow("ReadApiKeys", "GetItem"),
                transactions.allow("RecordPendingTransactions", "PutItem", "GetItem", "DeleteItem"),
                queues.queue.allow_send("QueueTransactions"),
            ],
            platform=platform,
        )
        fraud = PythonFunction(
            self,
            "FraudDetectionFunction",
            function=FRAUD_DETECTION,
            function_name=s.function_names[FRAUD_DETECTION.entry_point],
            description="Scores queued transactions and records the outcome",
            sizing=s.fraud_detection,
            environment=s.function_environment(FRAUD_DETECTION, resources),
            permissions=[
                merchants.allow("ReadMerchantsToScore", "GetItem", "BatchGetItem"),
                transactions.allow("RecordOutcomes", "UpdateItem", "GetItem"),
                transactions.allow("CountMerchantVelocity", "Query", index=MERCHANT_INDEX),
                queues.queue.allow_consume("ConsumeTransactions"),
            ],
            platform=platform,
        )
        failed = PythonFunction(
            self,
            "FailedTransactionFunction",
            function=FAILED_TRANSACTION,
            function_name=s.function_names[FAILED_TRANSACTION.entry_point],
            description="Records dead-lettered transactions (FAILED, or pending for rescoring)",
            sizing=s.failed_transaction,
            environment=s.function_environment(FAILED_TRANSACTION, resources),
            permissions=[
                merchants.allow("ReadMerchantsOfDeadLetters", "GetItem"),
                transactions.allow("RecordFailures", "UpdateItem", "GetItem"),
                queues.dlq.allow_consume("ConsumeDeadLetters"),
            ],
            platform=platform,
        )
        # --- Outage recovery: the reconciler, run by EventBridge Scheduler (issue 12) ----------------------
        reconciler = PythonFunction(
            self,
            "ReconcilerFunction",
            function=RECONCILER,
            function_name=s.function_names[RECONCILER.entry_point],
            description="Re-enqueues transactions pending longer than RECONCILE_AFTER_SECONDS",
            sizing=s.reconciler,
            environment=s.function_environment(RECONCILER, resources),
            permissions=[
                transactions.allow("FindStalePending", "Query", index=PENDING_INDEX),
                transactions.allow("MarkRequeued", "UpdateItem"),
                queues.queue.allow_send("RequeueTransactions"),
            ],
            platform=platform,
        )
        schedule = FunctionSchedule(
            self,
            "ReconcilerSchedule",
            name=s.name("reconciler"),
            description="Runs the reconciler of stale pending transactions",
            function_arn=reconciler.arn,
            every_minutes=s.reconcile_every_minutes,
            dead_letter_arn=queues.async_failures.arn,
            kms_key_arn=key.arn,
            account=account,
        )

        functions = (validation, fraud, failed, reconciler)
        # Who may do what, named once from the stack's roles: resource policies and endpoint policies.
        managers = [s.deploy_role_arn] if s.deploy_role_arn else []
        queues.restrict(
            producers=[validation.role.arn, reconciler.role.arn],
            consumers=[fraud.role.arn],
            dead_letter_consumers=[failed.role.arn],
            async_failure_senders=[*(f.role.arn for f in functions), schedule.role.arn],
            managers=managers,
            operators=[s.operator_role_arn] if s.operator_role_arn else [],
        )
        alerts.restrict(publishers=[], event_rules=alert_pipes.rule_arns, managers=managers)
        alert_pipes.restrict(managers)
        network.restrict_endpoints([(f.role.arn, f.permissions) for f in functions])

        for mapping_id, queue, function, batch_size, window, concurrency in (
            (
                "TransactionQueueMapping",
                queues.queue,
                fraud,
                s.queue_batch_size,
                s.queue_batching_window_seconds,
                s.queue_max_concurrency,
            ),
            ("DeadLetterQueueMapping", queues.dlq, failed, s.dlq_batch_size, 0, s.dlq_max_concurrency),
        ):
            LambdaEventSourceMapping(
                self,
                mapping_id,
                event_source_arn=queue.arn,
                function_name=function.arn,
                batch_size=batch_size,
                maximum_batching_window_in_seconds=window,
                function_response_types=["ReportBatchItemFailures"],
                scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=concurrency),
            )

        api = TransactionApi(
            self,
            "Api",
            name=api_name,
            handler=validation,
            request_schema=load_transaction_schema(),
            clients=clients,
            rate_limit=s.api_rate_limit,
            burst_limit=s.api_burst_limit,
            kms_key_arn=key.arn,
            retention_days=s.log_retention_days,
            account=account,
            domain=s.custom_domain,
        )
        self.forgotten_addresses = [*self.forgotten_addresses, *api.former_account_addresses]
        ApiTraceSampling(
            self,
            "Tracing",
            name=api_name,
            api_name=api_name,
            stage=STAGE_NAME,
            reservoir=s.xray_sampling_reservoir,
            rate=s.xray_sampling_rate,
        )
        ApiFirewall(
            self,
            "Firewall",
            name=s.name("transaction-api-waf"),
            managed_rule_groups=s.waf_managed_rule_groups,
            overrides=[RuleActionOverride.parse(o) for o in s.resolved_waf_rule_action_overrides],
            rate_limits=RateLimits(
                per_api_key=s.resolved_waf_key_rate_limit,
                per_ip=s.resolved_waf_ip_rate_limit,
                window_seconds=s.waf_rate_window_seconds,
            ),
            stage_arn=api.stage.arn,
            kms_key_arn=key.arn,
            retention_days=s.log_retention_days,
            account=account,
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            name=s.name("transaction-processing"),
            region=s.region,
            alarm_topic_arn=alerts.arn,
            watched=MonitoredResources(
                function_names=[f.function_name for f in functions],
                queue_name=queues.queue.name,
                dlq_name=queues.dlq.name,
                async_failure_queue_name=queues.async_failures.name,
                api_name=api_name,
                stage_name=STAGE_NAME,
                topic_name=alerts.name,
                metrics_namespace=METRICS_NAMESPACE,
                fraud_service=FRAUD_DETECTION.service,
                failed_service=FAILED_TRANSACTION.service,
                reconciler_service=RECONCILER.service,
                reconciler_function_name=reconciler.function_name,
                reconcile_every_minutes=s.reconcile_every_minutes,
                alert_dlq_name=alert_pipes.dlq.name,
                card_data_log_groups=[group.name for group in card_data_log_groups(self)],
            ),
            runbook_url=s.runbook_url,
            forward_topic_arn=s.alarm_forward_topic_arn,
        )

        operator = OperatorPolicy(
            self,
            "Operator",
            name=s.name(f"{s.project}-operator"),
            account=account,
            resources=OperatedResources(
                replay=[
                    transactions.allow("ReplayFindsPending", "Query", index=PENDING_INDEX),
                    transactions.allow("ReplayMarksRequeued", "UpdateItem"),
                    queues.queue.allow_send("ReplayRequeues"),
                ],
                queue_arns=[q.arn for q in (queues.queue, queues.dlq, queues.async_failures)],
                async_failure_queue_arn=queues.async_failures.arn,
                alert_dlq_arn=alert_pipes.dlq.arn,
                transaction_table_arn=transactions.arn,
                transaction_stream_arn=transactions.stream_arn,
                pipe_arns=[alert_pipes.pipe.arn],
                log_group_arns=[group.arn for group in card_data_log_groups(self)],
                function_arns=[f.arn for f in functions],
                schedule_arn=schedule.schedule.arn,
                topic_arn=alerts.arn,
                kms_key_arn=key.arn,
            ),
        )

        outputs = {
            "api_endpoint": (api.endpoint, "POST here with an x-api-key header (the custom domain if set)"),
            "api_usage_plan_ids": (
                clients.plan_ids,
                "usage plan id of each client (its keys: python -m tools.clients, never Terraform)",
            ),
            "api_key_table_name": (api_keys.name, "DynamoDB table of API key ids and their clients"),
            "dashboard_url": (monitoring.dashboard_url, "CloudWatch dashboard"),
            "merchant_table_name": (merchants.table.name, "DynamoDB merchant configuration table"),
            "transaction_table_name": (transactions.table.name, "DynamoDB processed transactions table"),
            "queue_url": (queues.queue.url, "SQS transactions queue"),
            "dlq_url": (queues.dlq.url, "SQS dead-letter queue"),
            "alert_dlq_url": (alert_pipes.dlq.url, "SQS queue of the alerts the pipes could not deliver"),
            "sns_topic_arn": (alerts.arn, "SNS alerts topic"),
            "validation_lambda_arn": (validation.arn, "Validation function"),
            "fraud_detection_lambda_arn": (fraud.arn, "Fraud-detection function"),
            "failed_transaction_lambda_arn": (failed.arn, "Failed-transaction function"),
            "reconciler_lambda_arn": (reconciler.arn, "Reconciler of stale pending transactions"),
            "kms_key_arn": (key.arn, "Customer-managed key of the stack"),
            "operator_policy_arn": (operator.arn, "Attach to OPERATOR_ROLE_ARN: what docs/runbooks.md runs"),
        }
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
        if s.permissions_boundary_arn:
            apply_permissions_boundary(self, s.permissions_boundary_arn)
