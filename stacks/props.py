"""What a ``TransactionProcessing`` construct is given: frozen, typed props grouped by concern.

Every field has the original system's default (the same as the settings catalog's, which a test keeps
in step), so ``TransactionProcessingProps()`` describes the system as the project deploys it. Nothing
here knows about environment files, the state backend or the provider: those belong to the app
(``stacks/transaction_stack.py`` maps the committed settings to these props).

Some parts are either created or brought: give the ``create`` value or the ``existing`` value of a
part, never both (a ``ValueError`` names the two fields).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal

from card_transactions.handlers.domain.fraud import FraudThresholds, VelocityRule
from card_transactions.settings.system import (
    DEFAULT_API_CLIENT,
    FAILED_TRANSACTION,
    FRAUD_DETECTION,
    RECONCILER,
    VALIDATION,
    WAF_BODY_SIZE_RULE,
    WAF_COMMON_RULE_SET,
    WAF_DEFAULT_OVERRIDES,
    WAF_DEFAULT_RULE_GROUPS,
    WAF_MAX_RATE_LIMIT,
    WAF_NO_USER_AGENT_RULE,
)
from card_transactions.stacks.config import ApiClient, CustomDomain, FunctionSizing, waf_limit
from card_transactions.stacks.constructs.waf import RateLimits, RuleActionOverride


def refuse_both(group: str, create: str, existing: str, given: tuple[object, object]) -> None:
    """Refuse a part given both to create and to bring."""
    if given[0] is not None and given[1] is not None:
        raise ValueError(
            f"{group}: give either {create} (create) or {existing} (bring an existing one), not both"
        )


@dataclass(frozen=True)
class NamingProps:
    """How resources are named: ``{prefix}{base}-{environment}`` (``merchant-config-dev``).

    Two instances in one account and region need different prefixes (or environments)."""

    environment: str = "dev"
    """Suffix of every name, and the ``ENVIRONMENT`` label of the functions."""
    project: str = "transaction-processing"
    """Base of the names of the key alias, the VPC and the artifact bucket."""
    prefix: str = ""
    """Put in front of every name (``payments-`` gives ``payments-merchant-config-dev``)."""

    def name(self, base: str) -> str:
        """The name of resource ``base``."""
        return f"{self.prefix}{base}-{self.environment}"


@dataclass(frozen=True)
class ApiProps:
    """The public REST API, its clients and its web ACL."""

    clients: tuple[ApiClient, ...] = (ApiClient(DEFAULT_API_CLIENT, 500, 1000, 10_000),)
    """One API key and usage plan each."""
    rate_limit: int = 500
    """Stage throttling: requests per second."""
    burst_limit: int = 1000
    """Stage throttling: burst."""
    custom_domain: CustomDomain | None = None
    """The API's own domain (TLS 1.2+); None keeps the default execute-api endpoint."""
    require_merchant_clients: bool = False
    """Refuse a merchant's transactions from a client it does not name."""
    max_body_bytes: int = 8192
    """Largest request body the validation function accepts."""
    merchant_cache_ttl_seconds: int = 60
    """How long the functions keep a merchant's configuration."""
    waf_managed_rule_groups: tuple[str, ...] = WAF_DEFAULT_RULE_GROUPS
    """AWS managed rule groups of the web ACL, in order."""
    waf_rule_action_overrides: tuple[RuleActionOverride, ...] = (
        *(RuleActionOverride.parse(o) for o in WAF_DEFAULT_OVERRIDES),
        RuleActionOverride(WAF_COMMON_RULE_SET, WAF_NO_USER_AGENT_RULE, "count"),
        RuleActionOverride(WAF_COMMON_RULE_SET, WAF_BODY_SIZE_RULE, "count"),
    )
    """Managed rules with another action: by default cloud hosting ranges, requests without a
    User-Agent (server HTTP clients) and bodies over 8 KB (``max_body_bytes`` is the one limit) only
    counted."""
    waf_rate_window_seconds: int = 300
    """Window of the rate-based rules."""
    waf_key_rate_limit: int | None = None
    """Requests per window per API key; None: derived from the clients' usage plans."""
    waf_ip_rate_limit: int | None = None
    """Requests per window per client IP; None: the sum of the per-key limits."""

    @property
    def waf_rate_limits(self) -> RateLimits:
        limits = [waf_limit(c, self.waf_rate_window_seconds) for c in self.clients]
        return RateLimits(
            per_api_key=self.waf_key_rate_limit or max(limits),
            per_ip=self.waf_ip_rate_limit or min(WAF_MAX_RATE_LIMIT, sum(limits)),
            window_seconds=self.waf_rate_window_seconds,
        )


@dataclass(frozen=True)
class FraudProps:
    """The fraud-detection function's scoring rules (the original system's by default)."""

    fraud_high_amount: Decimal = FraudThresholds.high_amount
    """An amount above this scores +30."""
    fraud_review_threshold: int = FraudThresholds.review_threshold
    """Score from which a transaction is REVIEW_REQUIRED."""
    fraud_suspected_threshold: int = FraudThresholds.suspected_threshold
    """Score from which a transaction is FRAUD_SUSPECTED."""
    alert_on_review_required: bool = False
    """Alert on REVIEW_REQUIRED as well as FRAUD_SUSPECTED (a filter of the alert pipe)."""
    velocity_max_transactions: int | None = None
    """Transactions of one merchant per window before the velocity rule scores; None: rule off."""
    velocity_window_seconds: int = VelocityRule.window_seconds
    """Window of the velocity rule."""
    velocity_points: int = VelocityRule.points
    """Points the velocity rule adds."""


# What the stage's peak needs: (rate 500 + burst 1000 requests) x a 100 ms latency budget.
VALIDATION_SIZING = FunctionSizing(256, VALIDATION.timeout_seconds, 150)
FRAUD_DETECTION_SIZING = FunctionSizing(256, FRAUD_DETECTION.timeout_seconds, 20)
FAILED_TRANSACTION_SIZING = FunctionSizing(256, FAILED_TRANSACTION.timeout_seconds, 2)
# One run at a time: a run re-enqueues what it finds, a second one at once would find nothing.
RECONCILER_SIZING = FunctionSizing(256, RECONCILER.timeout_seconds, reserved_concurrency=1)


@dataclass(frozen=True)
class FunctionsProps:
    """Memory, timeout and concurrency of each function, and what they all share."""

    validation: FunctionSizing = VALIDATION_SIZING
    """The validation function (behind the API)."""
    fraud_detection: FunctionSizing = FRAUD_DETECTION_SIZING
    """The fraud-detection function (consumes the queue)."""
    failed_transaction: FunctionSizing = FAILED_TRANSACTION_SIZING
    """The failed-transaction function (consumes the dead-letter queue)."""
    reconciler: FunctionSizing = RECONCILER_SIZING
    """The reconciler (one run at a time)."""
    architecture: str = "arm64"
    """Lambda architecture of every function."""


@dataclass(frozen=True)
class QueuesProps:
    """The transactions queue, its dead-letter queue, retries and the reconciler."""

    max_receive_count: int = 24
    """Receives of a message before it goes to the dead-letter queue."""
    queue_batch_size: int = 10
    """Transactions queue -> fraud detection: records per batch."""
    queue_batching_window_seconds: int = 1
    """Transactions queue -> fraud detection: longest wait to fill a batch."""
    queue_max_concurrency: int = 20
    """Transactions queue -> fraud detection: most concurrent batches."""
    dlq_batch_size: int = 10
    """Dead-letter queue -> failed transaction: records per batch."""
    dlq_max_concurrency: int = 2
    """Dead-letter queue -> failed transaction: most concurrent batches."""
    reconcile_after_seconds: int = 900
    """Age from which the reconciler re-enqueues a pending transaction."""
    reconcile_max_records: int = 5000
    """Most transactions one reconciler run re-enqueues."""
    reconcile_every_minutes: int = 5
    """How often the reconciler runs."""


@dataclass(frozen=True)
class AlertTopic:
    """An alert topic to create and who it notifies (each subscription must be confirmed)."""

    emails: tuple[str, ...] = ()
    """E-mail addresses subscribed to the topic."""
    https_endpoints: tuple[str, ...] = ()
    """HTTPS endpoints subscribed to the topic (they receive the signed SNS envelope)."""


@dataclass(frozen=True)
class MonitoringProps:
    """Alarms, the dashboard and the alert topic."""

    topic: AlertTopic | None = None
    """The topic to create; None with no ``existing_topic_arn``: one without subscriptions."""
    existing_topic_arn: str | None = None
    """Bring an existing SNS topic instead (its policy must let CloudWatch alarms and EventBridge for the
    alert rules (``alert_pipes.rule_arns``) publish, and its key must let them use it)."""
    alarm_forward_topic_arn: str = ""
    """Also send every alarm to this topic (an on-call system's); empty: no forwarding."""
    runbook_url: str = "docs/runbooks.md"
    """Where each alarm's description points."""
    log_retention_days: int = 365
    """Retention of every log group (PCI DSS 10.5.1: at least 365)."""
    xray_sampling_rate: float = 0.05
    """Share of API requests X-Ray traces beyond the reservoir."""
    xray_sampling_reservoir: int = 0
    """API requests per second X-Ray traces before the rate applies."""

    def __post_init__(self) -> None:
        refuse_both("monitoring", "topic", "existing_topic_arn", (self.topic, self.existing_topic_arn))


@dataclass(frozen=True)
class NewNetwork:
    """A private VPC to create: subnets without internet access, VPC endpoints, flow logs."""

    cidr: str = "10.40.0.0/16"
    """Address range of the VPC; each private subnet takes a sixteenth of it."""
    availability_zone_count: int = 2
    """Private subnets, one per availability zone."""


@dataclass(frozen=True)
class ExistingVpc:
    """The host's VPC: the functions run in its private subnets, which must reach DynamoDB (a gateway
    endpoint or NAT) and need reach nothing else."""

    vpc_id: str
    """The VPC's id."""
    private_subnet_ids: tuple[str, ...]
    """At least two, in different availability zones."""
    security_group_ids: tuple[str, ...] = ()
    """The functions' security groups; empty: one is created (HTTPS egress to DynamoDB only)."""
    endpoint_ids: tuple[tuple[str, str], ...] = ()
    """(service, endpoint id) of endpoints given to this system alone (``("dynamodb", "vpce-...")``): their
    policy is replaced by one naming the functions' roles and the exact resources they use."""

    def __post_init__(self) -> None:
        if len(self.private_subnet_ids) < 2:
            subnets = list(self.private_subnet_ids)
            raise ValueError(f"existing_vpc.private_subnet_ids needs at least 2 subnets, got {subnets}")


@dataclass(frozen=True)
class NetworkProps:
    """Where the functions run."""

    vpc: NewNetwork | None = None
    """The VPC to create; None with no ``existing_vpc``: a VPC with the defaults."""
    existing_vpc: ExistingVpc | None = None
    """Bring the host's VPC instead."""

    def __post_init__(self) -> None:
        refuse_both("network", "vpc", "existing_vpc", (self.vpc, self.existing_vpc))


@dataclass(frozen=True)
class EncryptionProps:
    """The customer-managed key of tables, queues, topic, logs and the functions' environment."""

    create_key: bool | None = None
    """Create the key (rotated yearly, scoped key policy); None: create it unless one is brought."""
    existing_key_arn: str | None = None
    """Bring a key instead: its policy must let CloudWatch Logs (by log group), SNS, CloudWatch alarms
    and this account's IAM policies (through DynamoDB, SQS, SNS, Lambda, S3) use it."""
    administrator_arn: str | None = None
    """Role that administers the key and manages the queue and topic policies; None: IAM decides."""
    manage_xray_encryption: bool = True
    """Encrypt X-Ray traces with the key (one setting per account and region)."""
    deletion_protection: bool = True
    """Deletion protection of the tables."""

    def __post_init__(self) -> None:
        create = True if self.create_key else None
        refuse_both("encryption", "create_key", "existing_key_arn", (create, self.existing_key_arn))
        if self.create_key is False and not self.existing_key_arn:
            raise ValueError("encryption: create_key=False needs existing_key_arn (every part is encrypted)")


@dataclass(frozen=True)
class StorageProps:
    """The buckets the construct writes: Lambda packages and their access logs."""

    artifact_bucket: str | None = None
    """Name of the bucket to create for the Lambda packages; None with no ``existing_artifact_bucket``:
    ``{prefix}{project}-artifacts-{env}``."""
    existing_artifact_bucket: str | None = None
    """Bring a bucket for the packages instead: versioned (AWS Signer signs only versioned objects),
    the functions' key usable by S3 for it."""
    access_log_bucket: str | None = None
    """Existing bucket receiving the artifact bucket's access logs (it must accept S3 log delivery
    from it); None: ``{prefix}{project}-access-logs-{env}``."""

    def __post_init__(self) -> None:
        given = (self.artifact_bucket, self.existing_artifact_bucket)
        refuse_both("storage", "artifact_bucket", "existing_artifact_bucket", given)


@dataclass(frozen=True)
class AccessProps:
    """Who operates the system, and the bounds of the roles it creates."""

    operator_role_arn: str | None = None
    """The on-call role running the runbooks: the queue policies admit it to re-enqueue and purge."""
    permissions_boundary_arn: str | None = None
    """Permissions boundary set on every IAM role the construct creates."""


@dataclass(frozen=True)
class TransactionProcessingProps:
    """Everything a ``TransactionProcessing`` construct is given, grouped by concern."""

    region: str = "us-east-2"
    """Region the host's provider deploys to."""
    naming: NamingProps = field(default_factory=NamingProps)
    """How resources are named."""
    api: ApiProps = field(default_factory=ApiProps)
    """The API, its clients and its web ACL."""
    fraud: FraudProps = field(default_factory=FraudProps)
    """The fraud rules."""
    functions: FunctionsProps = field(default_factory=FunctionsProps)
    """Sizes of the functions."""
    queues: QueuesProps = field(default_factory=QueuesProps)
    """Queues, retries and recovery."""
    monitoring: MonitoringProps = field(default_factory=MonitoringProps)
    """Alarms, dashboard, alert topic, log retention."""
    network: NetworkProps = field(default_factory=NetworkProps)
    """Where the functions run."""
    encryption: EncryptionProps = field(default_factory=EncryptionProps)
    """The customer-managed key."""
    storage: StorageProps = field(default_factory=StorageProps)
    """The package and access-log buckets."""
    access: AccessProps = field(default_factory=AccessProps)
    """The operator role and the roles' permissions boundary."""

    @property
    def groups(self) -> Sequence[object]:
        """Every group, in field order."""
        return [getattr(self, f.name) for f in fields(self) if f.name != "region"]
