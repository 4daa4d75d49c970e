"""The deployment's settings, each declared once.

* ``Settings``: read at synth (``main.py``) from the environment's committed file,
  ``environments/<ENV>.toml``, and environment variables overriding single settings
  (``settings.environments``). A bad value fails synth with a ``ValueError`` naming the file and key,
  or the variable, and the value. ``functions=`` passes a setting on to those Lambda
  functions under the same variable, and the function reads it back through this same declaration.
* ``FunctionResources``: what the stack sets on the functions from the resources it creates.

The system's fixed values (stacks, functions, index and tag names, what WAF and CloudWatch accept) are in
``settings.system``; the local runtime's own settings (``LocalSettings``) beside the runtime, in
``local.config``.
The configuration tables of the docs are generated from these declarations (``python -m settings``), and a
test keeps them in step. ``settings.model`` explains how a declaration is read.

Adding a setting: declare it here; when it goes to a function (``functions=``), also give that
function's typed view in ``handlers/runtime_settings.py`` a field of the same name and type (reading the
view fails until it has one), then run ``python -m settings``.
"""

from decimal import Decimal

from card_transactions.settings.model import (
    FunctionView,
    Rule,
    SettingsGroup,
    at_least,
    between,
    matches,
    one_of,
    positive,
    setting,
)
from card_transactions.settings.system import (
    API_CLIENT_PATTERN,
    DEFAULT_API_CLIENT,
    FAILED_TRANSACTION,
    FRAUD_DETECTION,
    FUNCTIONS,
    LOG_RETENTION_DAYS_ALLOWED,
    RECONCILER,
    VALIDATION,
    WAF_DEFAULT_OVERRIDES,
    WAF_DEFAULT_RULE_GROUPS,
    WAF_MAX_RATE_LIMIT,
    WAF_RATE_WINDOWS,
)

_NAME = r"[a-z][a-z0-9-]{0,%d}"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"


# --- synth ---------------------------------------------------------------------------------------------


class Settings(SettingsGroup):
    """Everything that varies between deployments (read at synth)."""

    # Names and state
    environment_suffix: str = setting(
        "ENVIRONMENT_SUFFIX",
        matches(_NAME % 15, "1-16 chars of a-z, 0-9, '-', starting with a letter"),
        default="dev",
        doc="suffix of every resource name (`merchant-config-dev`, ...)",
    )
    region: str = setting(
        "AWS_REGION",
        matches(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]", "an AWS region such as us-east-2"),
        default="us-east-2",
        doc="region of the provider and the state backend",
    )
    project: str = setting(
        "PROJECT_NAME",
        matches(_NAME % 31, "1-32 chars of a-z, 0-9, '-', starting with a letter"),
        default="transaction-processing",
        doc="prefix of the non-seed names (key alias, VPC, state bucket)",
    )
    state_bucket: str = setting(
        "TF_STATE_BUCKET",
        matches(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "a valid S3 bucket name"),
        empty_allowed=True,
        shown_default="`{project}-tfstate-{env}`",
        default="",
        doc="S3 bucket of the main stack's state (must be globally unique: set it)",
    )
    state_key: str = setting(
        "TF_STATE_KEY",
        empty_allowed=True,
        shown_default="`{project}/{env}/terraform.tfstate`",
        default="",
        doc="state object key",
    )
    state_lock_table: str = setting(
        "TF_STATE_LOCK_TABLE",
        matches(r"[A-Za-z0-9_.-]{3,255}", "a valid DynamoDB table name"),
        empty_allowed=True,
        shown_default="`{project}-tflock-{env}`",
        default="",
        doc="DynamoDB lock table (kept for pre-1.10 clients; `use_lockfile` is on)",
    )
    # Network
    vpc_cidr: str = setting(
        "VPC_CIDR",
        matches(
            rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/(1[6-9]|2[0-4])", "an IPv4 CIDR block from /16 to /24"
        ),
        default="10.40.0.0/16",
        doc="VPC block",
    )
    availability_zone_count: int = setting(
        "AVAILABILITY_ZONE_COUNT", between(2, 6), default=2, doc="private subnets, one per availability zone"
    )
    # API Gateway usage plan and WAF
    api_rate_limit: int = setting(
        "API_RATE_LIMIT",
        between(1, 10_000),
        default=500,
        doc="usage plan and stage throttling: requests per second",
    )
    api_burst_limit: int = setting(
        "API_BURST_LIMIT", between(1, 5_000), default=1000, doc="usage plan and stage throttling: burst"
    )
    api_quota_per_day: int = setting(
        "API_QUOTA_PER_DAY", at_least(1), default=10_000, doc="usage plan: requests a day"
    )
    # API clients: one API key and usage plan each, bound to merchants
    api_clients: tuple[str, ...] = setting(
        "API_CLIENTS",
        matches(API_CLIENT_PATTERN, "NAME or NAME:RATE:BURST:QUOTA (NAME: 1-32 chars of a-z, 0-9, '-')"),
        default=(DEFAULT_API_CLIENT,),
        doc="API clients: each gets its own API key and usage plan (rate, burst, daily quota: the "
        "`API_*` values unless given); merchants name the clients that may submit for them",
    )
    require_merchant_clients: bool = setting(
        "REQUIRE_MERCHANT_CLIENTS",
        functions=[VALIDATION],
        default=False,
        doc="refuse a merchant whose config item names no client (`false`: any valid key may use it)",
    )
    # Custom domain with TLS 1.2+, account-level API Gateway and X-Ray settings
    api_domain_name: str = setting(
        "API_DOMAIN_NAME",
        matches(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a lower-case DNS name"),
        empty_allowed=True,
        shown_default="none (execute-api endpoint)",
        default="",
        doc="custom domain of the API: TLS 1.2+ only, and the default execute-api endpoint (TLS 1.0+) "
        "is disabled (docs/tls.md)",
    )
    api_certificate_arn: str = setting(
        "API_CERTIFICATE_ARN",
        matches(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+", "an ACM certificate ARN"),
        empty_allowed=True,
        shown_default="none",
        default="",
        doc="ACM certificate of API_DOMAIN_NAME, in the stack's region",
    )
    api_hosted_zone_id: str = setting(
        "API_HOSTED_ZONE_ID",
        matches(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id"),
        empty_allowed=True,
        shown_default="none (no DNS record)",
        default="",
        doc="Route 53 zone in which to create API_DOMAIN_NAME's alias record",
    )
    api_tls_security_policy: str = setting(
        "API_TLS_SECURITY_POLICY",
        one_of("TLS_1_2"),
        default="TLS_1_2",
        doc="TLS security policy of the custom domain",
    )
    manage_api_gateway_account: bool = setting(
        "MANAGE_API_GATEWAY_ACCOUNT",
        default=True,
        doc="the bootstrap stack sets the region's API Gateway CloudWatch Logs role for every API of the "
        "account (`aws_api_gateway_account`, one per account and region): keep it `true` in one environment "
        "per account and region; `false` leaves the setting to whoever manages it (docs/deploy.md)",
    )
    manage_xray_encryption: bool = setting(
        "MANAGE_XRAY_ENCRYPTION",
        default=True,
        doc="encrypt the region's X-Ray traces with the stack's key (`aws_xray_encryption_config`, one per "
        "account and region); `false` leaves an existing setting alone",
    )
    # WAF: rule groups for an API called by servers, rate limits per API key and per IP
    waf_managed_rule_groups: tuple[str, ...] = setting(
        "WAF_MANAGED_RULE_GROUPS",
        matches(r"AWSManagedRules[A-Za-z0-9]+", "the name of an AWS managed rule group"),
        default=WAF_DEFAULT_RULE_GROUPS,
        doc="AWS managed rule groups of the web ACL, in evaluation order (docs/waf.md)",
    )
    waf_rule_action_overrides: tuple[str, ...] = setting(
        "WAF_RULE_ACTION_OVERRIDES",
        matches(
            r"AWSManagedRules[A-Za-z0-9]+:[A-Za-z0-9_]+=(count|block|allow)",
            "GROUP:RULE=ACTION with ACTION one of count, block, allow",
        ),
        empty_allowed=True,
        default=WAF_DEFAULT_OVERRIDES,
        doc="rules of those groups whose action is overridden (default: cloud hosting ranges only "
        "counted, so merchant servers on AWS, GCP or Azure get through)",
    )
    waf_count_no_user_agent: bool = setting(
        "WAF_COUNT_NO_USER_AGENT",
        default=True,
        doc="the common rule set's `NoUserAgent_HEADER` only counts (server HTTP clients such as .NET "
        "HttpClient and PHP curl send no User-Agent); `false` blocks them with 403",
    )
    waf_count_body_size: bool = setting(
        "WAF_COUNT_BODY_SIZE",
        default=True,
        doc="the common rule set's `SizeRestrictions_BODY` (bodies over 8 KB) only counts: `MAX_BODY_BYTES` "
        "is the one body limit (413); `false` blocks such bodies with 403 first",
    )
    waf_rate_window_seconds: int = setting(
        "WAF_RATE_WINDOW_SECONDS",
        one_of(*WAF_RATE_WINDOWS),
        default=300,
        doc="evaluation window of both WAF rate-based rules",
    )
    waf_key_rate_limit: int | None = setting(
        "WAF_KEY_RATE_LIMIT",
        between(10, WAF_MAX_RATE_LIMIT),
        shown_default="derived from the usage plans",
        default=None,
        doc="WAF block per API key (`x-api-key`) above this many requests per window; unset: "
        "(largest client rate x window + its burst) x 1.25 (docs/waf.md)",
    )
    waf_ip_rate_limit: int | None = setting(
        "WAF_IP_RATE_LIMIT",
        between(10, WAF_MAX_RATE_LIMIT),
        shown_default="derived from the usage plans",
        default=None,
        doc="coarse WAF block per client IP above this many requests per window; unset: the sum of "
        "every client's key limit, so all clients behind one egress IP still get through",
    )
    # Requests and caches
    max_body_bytes: int = setting(
        "MAX_BODY_BYTES",
        between(256, 262_144),
        functions=[VALIDATION],
        default=8192,
        doc="largest accepted POST body (413 above)",
    )
    merchant_cache_ttl_seconds: int = setting(
        "MERCHANT_CACHE_TTL_SECONDS",
        between(0, 3600),
        functions=[VALIDATION, FRAUD_DETECTION],
        default=60,
        doc="in-memory merchant cache of the validation and fraud-detection functions, and the validation "
        "function's cache of API key ids' clients (`0`: no cache)",
    )
    # Fraud rules (global; a merchant's config item may override the thresholds). The defaults are the
    # fraud domain's own (``handlers.domain.fraud``): a test keeps them equal.
    fraud_high_amount: Decimal = setting(
        "FRAUD_HIGH_AMOUNT",
        positive(),
        functions=[FRAUD_DETECTION],
        default=Decimal("5000"),
        doc="amount strictly above which the high-amount rule fires",
    )
    fraud_review_threshold: int = setting(
        "FRAUD_REVIEW_THRESHOLD",
        between(1, 1000),
        functions=[FRAUD_DETECTION],
        default=30,
        doc="score from which a transaction is REVIEW_REQUIRED",
    )
    fraud_suspected_threshold: int = setting(
        "FRAUD_SUSPECTED_THRESHOLD",
        between(1, 1000),
        functions=[FRAUD_DETECTION],
        default=50,
        doc="score from which a transaction is FRAUD_SUSPECTED",
    )
    alert_on_review_required: bool = setting(
        "ALERT_ON_REVIEW_REQUIRED",
        default=False,
        doc="also alert on REVIEW_REQUIRED (a filter of the alert pipe on the table's change stream)",
    )
    velocity_max_transactions: int | None = setting(
        "VELOCITY_MAX_TRANSACTIONS",
        at_least(1),
        functions=[FRAUD_DETECTION],
        shown_default="unset (off)",
        default=None,
        doc="velocity rule: more than N transactions per merchant in the window add points",
    )
    velocity_window_seconds: int = setting(
        "VELOCITY_WINDOW_SECONDS",
        between(1, 86_400),
        functions=[FRAUD_DETECTION],
        default=60,
        doc="velocity rule: the window",
    )
    velocity_points: int = setting(
        "VELOCITY_POINTS",
        between(0, 1000),
        functions=[FRAUD_DETECTION],
        default=20,
        doc="velocity rule: points it adds",
    )
    # Logs
    log_retention_days: int = setting(
        "LOG_RETENTION_DAYS",
        one_of(*LOG_RETENTION_DAYS_ALLOWED),
        default=365,
        doc="every log group (CloudWatch values only, >= 365 for PCI DSS 10.5.1)",
    )
    # Tracing
    xray_sampling_rate: float = setting(
        "XRAY_SAMPLING_RATE",
        between(0.0, 1.0),
        default=0.05,
        doc="share of API requests X-Ray traces beyond the reservoir (errors: metrics, alarms, logs)",
    )
    xray_sampling_reservoir: int = setting(
        "XRAY_SAMPLING_RESERVOIR",
        between(0, 1000),
        default=0,
        doc="API requests per second X-Ray traces before the rate applies",
    )
    # Functions
    lambda_architecture: str = setting(
        "LAMBDA_ARCHITECTURE",
        one_of("arm64", "x86_64"),
        default="arm64",
        doc="instruction set of every function",
    )
    validation_memory_mb: int = setting(
        "VALIDATION_MEMORY_MB", between(128, 10_240), default=256, doc="memory of the validation function"
    )
    validation_reserved_concurrency: int | None = setting(
        "VALIDATION_RESERVED_CONCURRENCY",
        at_least(1),
        shown_default="derived from the usage plans",
        default=None,
        doc="reserved concurrency of the validation function; unset: (API_RATE_LIMIT + API_BURST_LIMIT) x "
        "VALIDATION_LATENCY_BUDGET_MS / 1000, rounded up (docs/quotas.md)",
    )
    validation_latency_budget_ms: int = setting(
        "VALIDATION_LATENCY_BUDGET_MS",
        between(10, 10_000),
        default=100,
        doc="how long one validation invocation may take at the usage plan's peak: what the derived "
        "reserved concurrency serves (Little's law)",
    )
    validation_provisioned_concurrency: int = setting(
        "VALIDATION_PROVISIONED_CONCURRENCY",
        at_least(0),
        default=0,
        doc="provisioned concurrency on a `live` alias used by the API (`0`: off)",
    )
    fraud_memory_mb: int = setting(
        "FRAUD_MEMORY_MB", between(128, 10_240), default=256, doc="memory of the fraud-detection function"
    )
    fraud_reserved_concurrency: int = setting(
        "FRAUD_RESERVED_CONCURRENCY",
        at_least(2),
        default=20,
        doc="reserved concurrency of the fraud-detection function",
    )
    failed_memory_mb: int = setting(
        "FAILED_MEMORY_MB", between(128, 10_240), default=256, doc="memory of the failed-transaction function"
    )
    failed_reserved_concurrency: int = setting(
        "FAILED_RESERVED_CONCURRENCY",
        at_least(2),
        default=2,
        doc="reserved concurrency of the failed-transaction function",
    )
    # Event source mappings
    queue_batch_size: int = setting(
        "QUEUE_BATCH_SIZE",
        between(1, 10_000),
        default=10,
        doc="transactions queue -> fraud detection: records per batch",
    )
    queue_batching_window_seconds: int = setting(
        "QUEUE_BATCHING_WINDOW_SECONDS",
        between(0, 300),
        default=1,
        doc="transactions queue -> fraud detection: seconds to fill a batch (fewer invocations and SQS "
        "requests, at most that much later scoring)",
    )
    queue_max_concurrency: int = setting(
        "QUEUE_MAX_CONCURRENCY",
        between(2, 1000),
        default=20,
        doc="transactions queue -> fraud detection: concurrency",
    )
    dlq_batch_size: int = setting(
        "DLQ_BATCH_SIZE", between(1, 10), default=10, doc="DLQ -> failed transaction: records per batch"
    )
    dlq_max_concurrency: int = setting(
        "DLQ_MAX_CONCURRENCY", between(2, 1000), default=2, doc="DLQ -> failed transaction: concurrency"
    )
    max_receive_count: int = setting(
        "MAX_RECEIVE_COUNT",
        between(1, 1000),
        default=24,
        doc="receives before a message moves to the DLQ (a failed record comes back after the queue's "
        "visibility timeout, 6 x the fraud-detection function's 30 s: 24 receives are ~72 minutes of "
        "retries; the reconciler then re-drives it)",
    )
    # Retries, the reconciler, alerts and runbooks
    reconcile_after_seconds: int = setting(
        "RECONCILE_AFTER_SECONDS",
        between(1, 345_600),
        functions=[RECONCILER],
        default=900,
        doc="a transaction pending this long is re-enqueued by the reconciler",
    )
    reconcile_max_records: int = setting(
        "RECONCILE_MAX_RECORDS",
        between(1, 100_000),
        functions=[RECONCILER],
        default=5000,
        doc="most transactions one reconciler run re-enqueues (the next run takes the rest)",
    )
    reconcile_every_minutes: int = setting(
        "RECONCILE_EVERY_MINUTES",
        between(1, 60),
        default=5,
        doc="how often the reconciler runs (EventBridge Scheduler)",
    )
    alert_emails: tuple[str, ...] = setting(
        "ALERT_EMAILS",
        matches(r"[^@\s,]+@[^@\s,]+\.[A-Za-z]{2,}", "an e-mail address"),
        shown_default="none",
        default=(),
        doc="e-mail subscriptions of the alerts topic (each address must confirm, see docs/runbooks.md)",
    )
    alert_https_endpoints: tuple[str, ...] = setting(
        "ALERT_HTTPS_ENDPOINTS",
        matches(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s,]*)?", "an https:// URL"),
        shown_default="none",
        default=(),
        doc="HTTPS subscriptions of the alerts topic (raw delivery off; the endpoint must confirm)",
    )
    alarm_forward_topic_arn: str = setting(
        "ALARM_FORWARD_TOPIC_ARN",
        matches(
            r"arn:aws[a-z-]*:sns:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:[A-Za-z0-9_-]{1,256}",
            "an SNS topic ARN",
        ),
        empty_allowed=True,
        shown_default="none",
        default="",
        doc="an existing topic (any account) that every alarm also notifies; its policy must allow it",
    )
    runbook_url: str = setting(
        "RUNBOOK_URL",
        matches(r"(https://\S+|[A-Za-z0-9_./-]+)\.md", "an https:// URL or a repository path of a .md file"),
        default="docs/runbooks.md",
        doc="the runbooks every alarm description links to (set your fork's URL, e.g. "
        "`https://github.com/<org>/<repo>/blob/main/docs/runbooks.md`)",
    )
    # Data protection
    deletion_protection: bool = setting(
        "DELETION_PROTECTION",
        default=True,
        doc="DynamoDB deletion protection (set `false` for throw-away environments)",
    )

    # Security principals and keys (see docs/compliance.md, "Who may do what")
    state_kms_key_arn: str = setting(
        "TF_STATE_KMS_KEY_ARN",
        matches(
            r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+",
            "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; the S3 backend refuses aliases)",
        ),
        empty_allowed=True,
        shown_default="unset (`make diff/deploy/migrate` refuse)",
        default="",
        doc="key the main stack's state is written with (output `state_kms_key_arn` of state-backend)",
    )
    deploy_role_arn: str = setting(
        "DEPLOY_ROLE_ARN",
        matches(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}", "an IAM role ARN"),
        empty_allowed=True,
        shown_default="unset (IAM decides)",
        default="",
        doc="role that deploys both stacks: when set, the only principal that may administer the KMS keys "
        "and change the queue and topic policies",
    )
    permissions_boundary_arn: str = setting(
        "PERMISSIONS_BOUNDARY_ARN",
        matches(
            r"arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]{1,512}", "an IAM policy ARN"
        ),
        empty_allowed=True,
        shown_default="unset (no boundary)",
        default="",
        doc="permissions boundary set on every IAM role both stacks create (the deploy policy lets the "
        "deploy role create roles only with it, docs/iam.md)",
    )
    operator_role_arn: str = setting(
        "OPERATOR_ROLE_ARN",
        matches(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}", "an IAM role ARN"),
        empty_allowed=True,
        shown_default="unset (`make replay` refused by the queue policy)",
        default="",
        doc="the on-call role that runs docs/runbooks.md (attach the stack's `operator_policy_arn` to it): "
        "the queue policies admit it to re-enqueue transactions (`make replay`) and to purge the "
        "async-failure queue",
    )

    RULES = (
        Rule(
            "api_certificate_arn",
            ("api_domain_name", "api_certificate_arn"),
            lambda s: (
                "set exactly when API_DOMAIN_NAME is set"
                + (f" ({s.api_domain_name})" if s.api_domain_name else " (it is not)")
            ),
            lambda s: bool(s.api_domain_name) == bool(s.api_certificate_arn),
        ),
        Rule(
            "api_hosted_zone_id",
            ("api_domain_name", "api_hosted_zone_id"),
            lambda _: "empty unless API_DOMAIN_NAME is set",
            lambda s: bool(s.api_domain_name) or not s.api_hosted_zone_id,
        ),
        Rule(
            "api_clients",
            ("api_clients",),
            lambda _: "a list of distinct client names",
            lambda s: len({c.split(":")[0] for c in s.api_clients}) == len(s.api_clients),
        ),
        Rule(
            "api_clients",
            ("api_clients", "api_rate_limit", "api_burst_limit"),
            lambda s: (
                f"clients whose rate <= API_RATE_LIMIT ({s.api_rate_limit}) and burst <= "
                f"API_BURST_LIMIT ({s.api_burst_limit}): the stage throttles every client at those"
            ),
            lambda s: all(
                int(rate) <= s.api_rate_limit and int(burst) <= s.api_burst_limit
                for _, rate, burst, _ in (c.split(":") for c in s.api_clients if ":" in c)
            ),
        ),
        Rule(
            "waf_rule_action_overrides",
            ("waf_rule_action_overrides", "waf_managed_rule_groups"),
            lambda s: (
                f"overrides of rules in WAF_MANAGED_RULE_GROUPS ({','.join(s.waf_managed_rule_groups)})"
            ),
            lambda s: all(o.split(":")[0] in s.waf_managed_rule_groups for o in s.waf_rule_action_overrides),
        ),
        Rule(
            "max_body_bytes",
            ("max_body_bytes", "waf_count_body_size"),
            lambda _: "<= 8192 unless WAF_COUNT_BODY_SIZE is true (the WAF blocks larger bodies)",
            lambda s: s.max_body_bytes <= 8192 or s.waf_count_body_size,
        ),
        Rule(
            "fraud_suspected_threshold",
            ("fraud_review_threshold", "fraud_suspected_threshold"),
            lambda s: f">= FRAUD_REVIEW_THRESHOLD ({s.fraud_review_threshold})",
            lambda s: s.fraud_suspected_threshold >= s.fraud_review_threshold,
        ),
        Rule(
            "queue_batch_size",
            ("queue_batch_size", "queue_batching_window_seconds"),
            lambda _: "<= 10 unless QUEUE_BATCHING_WINDOW_SECONDS is > 0 (SQS rule)",
            lambda s: s.queue_batch_size <= 10 or s.queue_batching_window_seconds > 0,
        ),
        Rule(
            "validation_provisioned_concurrency",
            ("validation_provisioned_concurrency", "validation_reserved_concurrency"),
            lambda s: f"<= the validation function's reserved concurrency ({validation_concurrency(s)})",
            lambda s: s.validation_provisioned_concurrency <= validation_concurrency(s),
        ),
        Rule(
            "queue_max_concurrency",
            ("queue_max_concurrency", "fraud_reserved_concurrency"),
            lambda s: f"<= FRAUD_RESERVED_CONCURRENCY ({s.fraud_reserved_concurrency})",
            lambda s: s.queue_max_concurrency <= s.fraud_reserved_concurrency,
        ),
        Rule(
            "dlq_max_concurrency",
            ("dlq_max_concurrency", "failed_reserved_concurrency"),
            lambda s: f"<= FAILED_RESERVED_CONCURRENCY ({s.failed_reserved_concurrency})",
            lambda s: s.dlq_max_concurrency <= s.failed_reserved_concurrency,
        ),
    )


def validation_concurrency(s: Settings) -> int:
    """The validation function's reserved concurrency: as set, else what the stage's peak needs.

    API Gateway admits at most API_BURST_LIMIT requests at once and API_RATE_LIMIT a second after that
    (every client together), so the first second of a burst brings rate + burst requests; each holds an
    execution environment for up to the latency budget (Little's law: concurrency = arrivals x time)."""
    if s.validation_reserved_concurrency is not None:
        return s.validation_reserved_concurrency
    arrivals = s.api_rate_limit + s.api_burst_limit
    return -(-arrivals * s.validation_latency_budget_ms // 1000)


# --- set by the stack ----------------------------------------------------------------------------------


class FunctionResources(SettingsGroup):
    """The resources a function works with, set by the stack (never by an operator)."""

    merchant_table_name: str = setting(
        "MERCHANT_TABLE_NAME",
        functions=[VALIDATION, FRAUD_DETECTION, FAILED_TRANSACTION],
        doc="the merchant configuration table",
    )
    transaction_table_name: str = setting(
        "TRANSACTION_TABLE_NAME", functions=FUNCTIONS, doc="the processed-transactions table"
    )
    api_key_table_name: str = setting(
        "API_KEY_TABLE_NAME",
        functions=[VALIDATION],
        doc="the API key table: which client each key id belongs to (ids, never key values)",
    )


class FunctionSettings(FunctionView):
    """Base of each function's typed view (``handlers.runtime_settings``): its settings come from these."""

    SOURCES = (Settings, FunctionResources)
