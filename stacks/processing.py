"""The transaction-processing system as one construct: reads like the architecture diagram in README.md.

API Gateway (+WAF) -> validation -> DynamoDB; the table's change stream -> EventBridge Pipes -> the
transactions queue (SQS +DLQ) -> fraud detection -> DynamoDB, and alerts on SNS; a reconciler of stale
pending transactions, alarms and a dashboard. It holds no state backend, provider
or app concern: place it in any stack whose AWS provider deploys to ``props.region``.

Logical ids come from construct paths below the stack. The project's app places the construct with
the id ``Default``, which cdktf leaves out of logical ids, so its resources keep the addresses they had
when they sat directly in the stack; another id (``Payments``) gives every resource its own address.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.xray_encryption_config import XrayEncryptionConfig
from constructs import Construct

from card_transactions.handlers.domain.schema import load_transaction_schema
from card_transactions.settings import catalog
from card_transactions.settings.catalog import FunctionResources
from card_transactions.settings.model import Function, delivered_to, environment_for
from card_transactions.settings.system import (
    FAILED_TRANSACTION,
    FRAUD_DETECTION,
    MERCHANT_INDEX,
    METRICS_NAMESPACE,
    PENDING_INDEX,
    RECONCILER,
    VALIDATION,
    observability_environment,
)
from card_transactions.stacks.config import FunctionSizing
from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.alert_pipes import AlertPipes
from card_transactions.stacks.constructs.alerts import AlertsTopic
from card_transactions.stacks.constructs.api import STAGE_NAME, TransactionApi
from card_transactions.stacks.constructs.api_clients import ApiClients
from card_transactions.stacks.constructs.code_signing import CodeSigning
from card_transactions.stacks.constructs.encryption import EncryptionKey
from card_transactions.stacks.constructs.existing import ExistingNetwork, ExistingTopic
from card_transactions.stacks.constructs.logs import card_data_log_groups
from card_transactions.stacks.constructs.monitoring import MonitoredResources, Monitoring
from card_transactions.stacks.constructs.network import PrivateNetwork
from card_transactions.stacks.constructs.operators import OperatedResources, OperatorPolicy
from card_transactions.stacks.constructs.policy import Statement, apply_permissions_boundary
from card_transactions.stacks.constructs.python_function import (
    FunctionNetwork,
    FunctionPlatform,
    PythonFunction,
)
from card_transactions.stacks.constructs.queues import TransactionQueues
from card_transactions.stacks.constructs.schedule import FunctionSchedule
from card_transactions.stacks.constructs.tables import EncryptedTable
from card_transactions.stacks.constructs.tracing import ApiTraceSampling
from card_transactions.stacks.constructs.waf import ApiFirewall
from card_transactions.stacks.props import AlertTopic, NewNetwork, TransactionProcessingProps


class TransactionProcessing(Construct):
    """The whole system. Exposes what it creates or was given: ``key_arn`` (and ``key`` when created),
    ``network``, ``merchants``, ``api_keys``, ``transactions``, ``queues``, ``alerts``, ``alert_pipes``,
    ``code_signing``, ``clients``, ``validation``, ``fraud``, ``failed``, ``reconciler``, ``functions``,
    ``api``, ``monitoring``.

    Default settings: every part is created (customer-managed key, private VPC without internet access,
    alert topic, artifact bucket); ``props`` may bring the host's key, VPC, topic and artifact bucket
    instead. Names come from ``props.naming``: instances with different prefixes coexist in one stack
    (at most one of them with ``manage_xray_encryption``, a setting of the account and region)."""

    def __init__(self, scope: Construct, id_: str, props: TransactionProcessingProps | None = None) -> None:
        super().__init__(scope, id_)
        self.props = props = props or TransactionProcessingProps()
        self.naming = props.naming
        self.account = Account.of(self, props.region)
        self._encryption_and_network()
        self._tables()
        self._messaging()
        self._signing_and_clients()
        self._functions()
        self._wiring()
        self._api()
        self._monitoring()
        self._operator()
        if props.access.permissions_boundary_arn:
            apply_permissions_boundary(self, props.access.permissions_boundary_arn)

    def _encryption_and_network(self) -> None:
        p, n = self.props, self.naming
        self.key: EncryptionKey | None = None
        if p.encryption.existing_key_arn:
            self.key_arn = p.encryption.existing_key_arn
        else:
            self.key = EncryptionKey(
                self,
                "Encryption",
                alias=n.name(n.project),
                account=self.account,
                administrator=p.encryption.administrator_arn,
            )
            self.key_arn = self.key.arn
        if p.encryption.manage_xray_encryption:
            XrayEncryptionConfig(self, "TraceEncryption", type="KMS", key_id=self.key_arn)
        self.network: FunctionNetwork = self._network()

    def _network(self) -> FunctionNetwork:
        p, n, existing = self.props, self.naming, self.props.network.existing_vpc
        if existing:
            return ExistingNetwork(
                self,
                "Network",
                name=n.name(n.project),
                vpc_id=existing.vpc_id,
                subnet_ids=existing.private_subnet_ids,
                account=self.account,
                security_group_ids=existing.security_group_ids,
                endpoint_ids=dict(existing.endpoint_ids),
            )
        vpc = p.network.vpc or NewNetwork()
        return PrivateNetwork(
            self,
            "Network",
            name=n.name(n.project),
            cidr=vpc.cidr,
            az_count=vpc.availability_zone_count,
            account=self.account,
            kms_key_arn=self.key_arn,
            retention_days=p.monitoring.log_retention_days,
        )

    def _tables(self) -> None:
        p, n, key_arn = self.props, self.naming, self.key_arn
        self.merchants = EncryptedTable(
            self,
            "MerchantTable",
            name=n.name("merchant-config"),
            hash_key="merchant_id",
            kms_key_arn=key_arn,
            deletion_protection=p.encryption.deletion_protection,
        )
        self.api_keys = EncryptedTable(
            self,
            "ApiKeyTable",
            name=n.name("api-keys"),
            hash_key="key_id",
            kms_key_arn=key_arn,
            deletion_protection=p.encryption.deletion_protection,
        )
        self.transactions = EncryptedTable(
            self,
            "TransactionTable",
            name=n.name("processed-transactions"),
            hash_key="transaction_id",
            kms_key_arn=key_arn,
            deletion_protection=p.encryption.deletion_protection,
            merchant_index=True,
            pending_index=True,
            stream=True,
        )

    def _messaging(self) -> None:
        """The transactions queue and its dead-letter queues; alerts from the table's change stream."""
        p, n, key_arn = self.props, self.naming, self.key_arn
        self.queues = TransactionQueues(
            self,
            "Queues",
            queue_name=n.name("transaction-queue"),
            dlq_name=n.name("transaction-dlq"),
            async_failures_name=n.name("lambda-async-failures"),
            kms_key_arn=key_arn,
            consumer_timeout_seconds=p.functions.fraud_detection.timeout_seconds,
            dlq_consumer_timeout_seconds=p.functions.failed_transaction.timeout_seconds,
            max_receive_count=p.queues.max_receive_count,
        )
        self.alerts = self._alerts()
        # From the committed state: the table's stream -> a pipe -> the bus -> rules -> the alerts topic,
        # and the transactions queue (the pending record's stored message).
        self.alert_pipes = AlertPipes(
            self,
            "AlertPipes",
            name=n.name("transaction-alerts"),
            stream_arn=self.transactions.stream_arn,
            topic_arn=self.alerts.arn,
            queue_arn=self.queues.queue.arn,
            kms_key_arn=key_arn,
            account=self.account,
            alert_on_review_required=p.fraud.alert_on_review_required,
        )

    def _signing_and_clients(self) -> None:
        """Signed deployment packages; the API's name and its clients' usage plans."""
        p, n, storage = self.props, self.naming, self.props.storage
        self.code_signing = CodeSigning(
            self,
            "CodeSigning",
            name=n.name(n.project),
            bucket_name=storage.existing_artifact_bucket
            or storage.artifact_bucket
            or n.name(f"{n.project}-artifacts"),
            kms_key_arn=self.key_arn,
            access_log_bucket=storage.access_log_bucket or n.name(f"{n.project}-access-logs"),
            create_bucket=storage.existing_artifact_bucket is None,
        )
        self.api_name = n.name("transaction-api")
        # API clients: usage plans here; keys by `python -m tools.clients`, mapped to clients by api_keys.
        self.clients = ApiClients(self, "Clients", api_name=self.api_name, clients=p.api.clients)

    def _alerts(self) -> AlertsTopic | ExistingTopic:
        monitoring = self.props.monitoring
        if monitoring.existing_topic_arn:
            return ExistingTopic(monitoring.existing_topic_arn)
        topic = monitoring.topic or AlertTopic()
        return AlertsTopic(
            self,
            "Alerts",
            name=self.naming.name("transaction-alerts"),
            kms_key_arn=self.key_arn,
            account=self.account,
            emails=topic.emails,
            https_endpoints=topic.https_endpoints,
        )

    def _functions(self) -> None:
        p, merchants, transactions, queues = self.props, self.merchants, self.transactions, self.queues
        self.platform = FunctionPlatform(
            account=self.account,
            architecture=p.functions.architecture,
            network=self.network,
            kms_key_arn=self.key_arn,
            retention_days=p.monitoring.log_retention_days,
            async_failure_queue_arn=queues.async_failures.arn,
            code_signing=self.code_signing,
        )
        self.validation = self._function(
            "ValidationFunction",
            VALIDATION,
            "Validates submitted transactions and records them pending; serves their status",
            p.functions.validation,
            [
                merchants.allow("ReadMerchants", "GetItem"),
                self.api_keys.allow("ReadApiKeys", "GetItem"),
                # The committed put is the enqueue: the table's stream sends it to the queue.
                transactions.allow("RecordPendingTransactions", "PutItem", "GetItem"),
            ],
        )
        self.fraud = self._function(
            "FraudDetectionFunction",
            FRAUD_DETECTION,
            "Scores queued transactions and records the outcome",
            p.functions.fraud_detection,
            [
                merchants.allow("ReadMerchantsToScore", "GetItem", "BatchGetItem"),
                transactions.allow("RecordOutcomes", "UpdateItem", "GetItem"),
                transactions.allow("CountMerchantVelocity", "Query", index=MERCHANT_INDEX),
                queues.queue.allow_consume("ConsumeTransactions"),
            ],
        )
        self.failed = self._function(
            "FailedTransactionFunction",
            FAILED_TRANSACTION,
            "Records dead-lettered transactions (FAILED, or pending for rescoring)",
            p.functions.failed_transaction,
            [
                merchants.allow("ReadMerchantsOfDeadLetters", "GetItem"),
                transactions.allow("RecordFailures", "UpdateItem", "GetItem"),
                queues.dlq.allow_consume("ConsumeDeadLetters"),
            ],
        )
        self.reconciler = self._function(
            "ReconcilerFunction",
            RECONCILER,
            "Re-enqueues transactions pending longer than RECONCILE_AFTER_SECONDS",
            p.functions.reconciler,
            [
                transactions.allow("FindStalePending", "Query", index=PENDING_INDEX),
                # The touch is the re-enqueue: its change passes the stream's enqueue filter.
                transactions.allow("MarkRequeued", "UpdateItem"),
            ],
        )
        self.functions = (self.validation, self.fraud, self.failed, self.reconciler)
        # Outage recovery: the reconciler, run by EventBridge Scheduler.
        self.schedule = FunctionSchedule(
            self,
            "ReconcilerSchedule",
            name=self.naming.name("reconciler"),
            description="Runs the reconciler of stale pending transactions",
            function_arn=self.reconciler.arn,
            every_minutes=p.queues.reconcile_every_minutes,
            dead_letter_arn=queues.async_failures.arn,
            kms_key_arn=self.key_arn,
            account=self.account,
        )

    def _function(
        self,
        id_: str,
        function: Function,
        description: str,
        sizing: FunctionSizing,
        permissions: Sequence[Statement],
    ) -> PythonFunction:
        return PythonFunction(
            self,
            id_,
            function=function,
            function_name=self.naming.name(f"{function.service}-lambda"),
            description=description,
            sizing=sizing,
            environment=self.function_environment(function),
            permissions=list(permissions),
            platform=self.platform,
        )

    def function_environment(self, function: Function) -> dict[str, str]:
        """Every variable ``function`` gets: Powertools', each setting the catalog passes to it (taken
        from the props field of the same name) and the names of the resources it uses."""
        resources = FunctionResources(
            merchant_table_name=self.merchants.name,
            transaction_table_name=self.transactions.name,
            api_key_table_name=self.api_keys.name,
        )
        values = {name: value for group in self.props.groups for name, value in vars(group).items()}
        settings = {}
        for spec in delivered_to(function, (catalog.Settings,)):
            if spec.name not in values:
                raise TypeError(
                    f"no props field {spec.name!r} for setting {spec.env} of {function.entry_point}"
                )
            settings[spec.env] = spec.render(values[spec.name])
        return (
            observability_environment(function, self.naming.environment)
            | settings
            | environment_for(function, resources)
        )

    def _wiring(self) -> None:
        """Who may do what, named once from the roles: resource and endpoint policies; event sources."""
        p, queues, functions = self.props, self.queues, self.functions
        administrator = p.encryption.administrator_arn
        managers = [administrator] if administrator else []
        queues.restrict(
            enqueue_rules=[self.alert_pipes.enqueue_rule_arn],
            consumers=[self.fraud.role.arn],
            dead_letter_consumers=[self.failed.role.arn],
            async_failure_senders=[*(f.role.arn for f in functions), self.schedule.role.arn],
            managers=managers,
            operators=[p.access.operator_role_arn] if p.access.operator_role_arn else [],
        )
        self.alerts.restrict(publishers=[], event_rules=self.alert_pipes.rule_arns, managers=managers)
        self.alert_pipes.restrict(managers)
        self.network.restrict_endpoints([(f.role.arn, f.permissions) for f in functions])
        q = p.queues
        for mapping_id, queue, function, batch_size, window, concurrency in (
            (
                "TransactionQueueMapping",
                queues.queue,
                self.fraud,
                q.queue_batch_size,
                q.queue_batching_window_seconds,
                q.queue_max_concurrency,
            ),
            ("DeadLetterQueueMapping", queues.dlq, self.failed, q.dlq_batch_size, 0, q.dlq_max_concurrency),
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

    def _api(self) -> None:
        p, retention = self.props, self.props.monitoring.log_retention_days
        self.api = TransactionApi(
            self,
            "Api",
            name=self.api_name,
            handler=self.validation,
            request_schema=load_transaction_schema(),
            clients=self.clients,
            rate_limit=p.api.rate_limit,
            burst_limit=p.api.burst_limit,
            kms_key_arn=self.key_arn,
            retention_days=retention,
            account=self.account,
            domain=p.api.custom_domain,
        )
        ApiTraceSampling(
            self,
            "Tracing",
            name=self.api_name,
            api_name=self.api_name,
            stage=STAGE_NAME,
            reservoir=p.monitoring.xray_sampling_reservoir,
            rate=p.monitoring.xray_sampling_rate,
        )
        ApiFirewall(
            self,
            "Firewall",
            name=self.naming.name("transaction-api-waf"),
            managed_rule_groups=p.api.waf_managed_rule_groups,
            overrides=p.api.waf_rule_action_overrides,
            rate_limits=p.api.waf_rate_limits,
            stage_arn=self.api.stage.arn,
            kms_key_arn=self.key_arn,
            retention_days=retention,
            account=self.account,
        )

    def _monitoring(self) -> None:
        p, queues = self.props, self.queues
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            name=self.naming.name("transaction-processing"),
            region=p.region,
            alarm_topic_arn=self.alerts.arn,
            watched=MonitoredResources(
                function_names=[f.function_name for f in self.functions],
                queue_name=queues.queue.name,
                dlq_name=queues.dlq.name,
                async_failure_queue_name=queues.async_failures.name,
                api_name=self.api_name,
                stage_name=STAGE_NAME,
                topic_name=self.alerts.name,
                metrics_namespace=METRICS_NAMESPACE,
                fraud_service=FRAUD_DETECTION.service,
                failed_service=FAILED_TRANSACTION.service,
                reconciler_service=RECONCILER.service,
                reconciler_function_name=self.reconciler.function_name,
                reconcile_every_minutes=p.queues.reconcile_every_minutes,
                alert_dlq_name=self.alert_pipes.dlq.name,
                card_data_log_groups=[group.name for group in card_data_log_groups(self)],
            ),
            runbook_url=p.monitoring.runbook_url,
            forward_topic_arn=p.monitoring.alarm_forward_topic_arn,
        )

    def _operator(self) -> None:
        """The policy for the role that runs docs/runbooks.md (``operator.arn``)."""
        n, queues, transactions = self.naming, self.queues, self.transactions
        self.operator = OperatorPolicy(
            self,
            "Operator",
            name=n.name(f"{n.project}-operator"),
            account=self.account,
            resources=OperatedResources(
                replay=[
                    transactions.allow("ReplayFindsPending", "Query", index=PENDING_INDEX),
                    transactions.allow("ReplayMarksRequeued", "UpdateItem"),
                ],
                queue_arns=[q.arn for q in (queues.queue, queues.dlq, queues.async_failures)],
                async_failure_queue_arn=queues.async_failures.arn,
                alert_dlq_arn=self.alert_pipes.dlq.arn,
                transaction_table_arn=transactions.arn,
                transaction_stream_arn=transactions.stream_arn,
                pipe_arns=[self.alert_pipes.pipe.arn],
                log_group_arns=[group.arn for group in card_data_log_groups(self)],
                function_arns=[f.arn for f in self.functions],
                schedule_arn=self.schedule.schedule.arn,
                topic_arn=self.alerts.arn,
                kms_key_arn=self.key_arn,
            ),
        )
