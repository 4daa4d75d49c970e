"""Settings of the whole system: one frozen dataclass, read from the environment, validated eagerly.

Every setting has a default that matches the original system, an environment variable that overrides it,
and a check that fails synth with a ``ValueError`` naming the variable and the bad value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from handlers.domain.fraud import FraudThresholds

# CloudWatch Logs accepts only these retention periods; PCI DSS 10.5.1 needs at least 365 days.
LOG_RETENTION_DAYS_ALLOWED = (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_SUFFIX = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_DEFAULT_FRAUD = FraudThresholds()


@dataclass(frozen=True)
class FunctionSettings:
    """Sizing of one Lambda function."""

    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    provisioned_concurrency: int = 0


def _env(name: str, **extra: Any) -> Any:
    """Field metadata: the environment variable that overrides this setting."""
    return {"env": name, **extra}


@dataclass(frozen=True)
class Settings:
    """Everything that varies between deployments. Defaults reproduce the original system."""

    environment_suffix: str = field(default="dev", metadata=_env("ENVIRONMENT_SUFFIX"))
    region: str = field(default="us-east-2", metadata=_env("AWS_REGION"))
    project: str = field(default="transaction-processing", metadata=_env("PROJECT_NAME"))
    # Terraform state (S3 backend). Empty means "derive from project and suffix".
    state_bucket: str = field(default="", metadata=_env("TF_STATE_BUCKET"))
    state_key: str = field(default="", metadata=_env("TF_STATE_KEY"))
    state_lock_table: str = field(default="", metadata=_env("TF_STATE_LOCK_TABLE"))
    # Network
    vpc_cidr: str = field(default="10.40.0.0/16", metadata=_env("VPC_CIDR"))
    availability_zone_count: int = field(default=2, metadata=_env("AVAILABILITY_ZONE_COUNT"))
    # API Gateway usage plan and WAF
    api_rate_limit: int = field(default=500, metadata=_env("API_RATE_LIMIT"))
    api_burst_limit: int = field(default=1000, metadata=_env("API_BURST_LIMIT"))
    api_quota_per_day: int = field(default=10_000, metadata=_env("API_QUOTA_PER_DAY"))
    waf_rate_limit_per_5min: int = field(default=2000, metadata=_env("WAF_RATE_LIMIT_PER_5MIN"))
    max_body_bytes: int = field(default=8192, metadata=_env("MAX_BODY_BYTES"))
    # Fraud rules (global; a merchant's config item may override the thresholds)
    fraud_high_amount: Decimal = field(default=_DEFAULT_FRAUD.high_amount, metadata=_env("FRAUD_HIGH_AMOUNT"))
    fraud_review_threshold: int = field(
        default=_DEFAULT_FRAUD.review_threshold, metadata=_env("FRAUD_REVIEW_THRESHOLD")
    )
    fraud_suspected_threshold: int = field(
        default=_DEFAULT_FRAUD.suspected_threshold, metadata=_env("FRAUD_SUSPECTED_THRESHOLD")
    )
    alert_on_review_required: bool = field(default=False, metadata=_env("ALERT_ON_REVIEW_REQUIRED"))
    velocity_max_transactions: int = field(default=0, metadata=_env("VELOCITY_MAX_TRANSACTIONS"))
    velocity_window_seconds: int = field(default=60, metadata=_env("VELOCITY_WINDOW_SECONDS"))
    velocity_points: int = field(default=20, metadata=_env("VELOCITY_POINTS"))
    merchant_cache_ttl_seconds: int = field(default=60, metadata=_env("MERCHANT_CACHE_TTL_SECONDS"))
    # Logs
    log_retention_days: int = field(default=365, metadata=_env("LOG_RETENTION_DAYS"))
    # Functions
    lambda_architecture: str = field(default="arm64", metadata=_env("LAMBDA_ARCHITECTURE"))
    validation_memory_mb: int = field(default=256, metadata=_env("VALIDATION_MEMORY_MB"))
    validation_reserved_concurrency: int = field(
        default=100, metadata=_env("VALIDATION_RESERVED_CONCURRENCY")
    )
    validation_provisioned_concurrency: int = field(
        default=0, metadata=_env("VALIDATION_PROVISIONED_CONCURRENCY")
    )
    fraud_memory_mb: int = field(default=256, metadata=_env("FRAUD_MEMORY_MB"))
    fraud_reserved_concurrency: int = field(default=50, metadata=_env("FRAUD_RESERVED_CONCURRENCY"))
    failed_memory_mb: int = field(default=256, metadata=_env("FAILED_MEMORY_MB"))
    failed_reserved_concurrency: int = field(default=5, metadata=_env("FAILED_RESERVED_CONCURRENCY"))
    # Event source mappings
    queue_batch_size: int = field(default=10, metadata=_env("QUEUE_BATCH_SIZE"))
    queue_batching_window_seconds: int = field(default=1, metadata=_env("QUEUE_BATCHING_WINDOW_SECONDS"))
    queue_max_concurrency: int = field(default=20, metadata=_env("QUEUE_MAX_CONCURRENCY"))
    dlq_batch_size: int = field(default=10, metadata=_env("DLQ_BATCH_SIZE"))
    dlq_max_concurrency: int = field(default=2, metadata=_env("DLQ_MAX_CONCURRENCY"))
    max_receive_count: int = field(default=3, metadata=_env("MAX_RECEIVE_COUNT"))
    # Data protection
    deletion_protection: bool = field(default=True, metadata=_env("DELETION_PROTECTION"))

    def __post_init__(self) -> None:
        for check in _CHECKS:
            check(self)

    # ---- derived names (the original system's names, suffixed by environment) ----
    @property
    def suffix(self) -> str:
        return self.environment_suffix

    def name(self, base: str) -> str:
        """Resource name in the original system's style: ``{base}-{env}``."""
        return f"{base}-{self.environment_suffix}"

    @property
    def merchant_table_name(self) -> str:
        return self.name("merchant-config")

    @property
    def transaction_table_name(self) -> str:
        return self.name("processed-transactions")

    @property
    def resolved_state_bucket(self) -> str:
        return self.state_bucket or f"{self.project}-tfstate-{self.environment_suffix}"

    @property
    def access_log_bucket(self) -> str:
        """Bucket (made by the bootstrap stack) receiving the S3 server access logs of every bucket."""
        return f"{self.project}-access-logs-{self.environment_suffix}"

    @property
    def artifact_bucket(self) -> str:
        """Bucket holding the Lambda deployment packages, unsigned and signed."""
        return f"{self.project}-artifacts-{self.environment_suffix}"

    @property
    def resolved_state_key(self) -> str:
        return self.state_key or f"{self.project}/{self.environment_suffix}/terraform.tfstate"

    @property
    def resolved_state_lock_table(self) -> str:
        return self.state_lock_table or f"{self.project}-tflock-{self.environment_suffix}"

    @property
    def validation(self) -> FunctionSettings:
        return FunctionSettings(
            self.validation_memory_mb,
            10,
            self.validation_reserved_concurrency,
            self.validation_provisioned_concurrency,
        )

    @property
    def fraud_detection(self) -> FunctionSettings:
        return FunctionSettings(self.fraud_memory_mb, 30, self.fraud_reserved_concurrency)

    @property
    def failed_transaction(self) -> FunctionSettings:
        return FunctionSettings(self.failed_memory_mb, 30, self.failed_reserved_concurrency)

    @property
    def fraud_thresholds(self) -> FraudThresholds:
        return FraudThresholds(
            high_amount=self.fraud_high_amount,
            review_threshold=self.fraud_review_threshold,
            suspected_threshold=self.fraud_suspected_threshold,
        )

    @classmethod
    def env_var(cls, setting: str) -> str:
        """The environment variable that overrides ``setting``."""
        return {f.name: f.metadata["env"] for f in dataclasses.fields(cls)}[setting]

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``environ``; unset or empty variables keep their defaults."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f.metadata["env"], "").strip()
            if raw:
                values[f.name] = _parse(f.metadata["env"], raw, f.default)
        return cls(**values)


def _parse(env_name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError
            return raw.lower() in {"true", "1", "yes"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, Decimal):
            value = Decimal(raw)
            if not value.is_finite():
                raise ValueError
            return value
    except (ValueError, InvalidOperation):
        kind = type(default).__name__
        raise ValueError(f"{env_name} must be a {kind}, got {raw!r}") from None
    return raw


def _fail(setting: str, requirement: str, value: Any) -> None:
    raise ValueError(f"{setting} ({Settings.env_var(setting)}) must be {requirement}, got {value!r}")


def _require(setting: str, ok: Callable[[Any], bool], requirement: str) -> Callable[[Settings], None]:
    def check(settings: Settings) -> None:
        value = getattr(settings, setting)
        if not ok(value):
            _fail(setting, requirement, value)

    return check


def _at_least(setting: str, low: int, high: int | None = None) -> Callable[[Settings], None]:
    text = f">= {low}" if high is None else f"between {low} and {high}"
    return _require(
        setting,
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low and (high is None or v <= high),
        text,
    )


def _pattern(setting: str, regex: re.Pattern[str], text: str, allow_empty: bool = False):
    return _require(setting, lambda v: (allow_empty and v == "") or bool(regex.match(v)), text)


def _cross_checks(s: Settings) -> None:
    if s.fraud_suspected_threshold < s.fraud_review_threshold:
        _fail(
            "fraud_suspected_threshold",
            f">= fraud_review_threshold ({s.fraud_review_threshold})",
            s.fraud_suspected_threshold,
        )
    if s.queue_batch_size > 10 and s.queue_batching_window_seconds < 1:
        _fail(
            "queue_batch_size",
            "<= 10 unless queue_batching_window_seconds (QUEUE_BATCHING_WINDOW_SECONDS) is > 0 (SQS rule)",
            s.queue_batch_size,
        )
    if s.dlq_batch_size > 10:
        _fail("dlq_batch_size", "<= 10 (the DLQ mapping has no batching window)", s.dlq_batch_size)
    if s.validation_provisioned_concurrency > s.validation_reserved_concurrency:
        _fail(
            "validation_provisioned_concurrency",
            f"<= validation_reserved_concurrency ({s.validation_reserved_concurrency})",
            s.validation_provisioned_concurrency,
        )
    if s.queue_max_concurrency > s.fraud_reserved_concurrency:
        _fail(
            "queue_max_concurrency",
            f"<= fraud_reserved_concurrency ({s.fraud_reserved_concurrency})",
            s.queue_max_concurrency,
        )
    if s.dlq_max_concurrency > s.failed_reserved_concurrency:
        _fail(
            "dlq_max_concurrency",
            f"<= failed_reserved_concurrency ({s.failed_reserved_concurrency})",
            s.dlq_max_concurrency,
        )


_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(1[6-9]|2[0-4])$")

_CHECKS: tuple[Callable[[Settings], None], ...] = (
    _pattern("environment_suffix", _SUFFIX, "1-16 chars of a-z, 0-9, '-', starting with a letter"),
    _pattern("region", _REGION, "an AWS region such as us-east-2"),
    _pattern("project", _PROJECT, "1-32 chars of a-z, 0-9, '-', starting with a letter"),
    _pattern("state_bucket", _BUCKET, "a valid S3 bucket name", allow_empty=True),
    _pattern("state_lock_table", _TABLE, "a valid DynamoDB table name", allow_empty=True),
    _require(
        "vpc_cidr",
        lambda v: bool(_CIDR.match(v)) and all(int(o) <= 255 for o in _CIDR.match(v).groups()[:4]),
        "an IPv4 CIDR block from /16 to /24",
    ),
    _at_least("availability_zone_count", 2, 6),
    _at_least("api_rate_limit", 1, 10_000),
    _at_least("api_burst_limit", 1, 5_000),
    _at_least("api_quota_per_day", 1),
    _at_least("waf_rate_limit_per_5min", 10, 2_000_000_000),
    _at_least("max_body_bytes", 256, 262_144),
    _require("fraud_high_amount", lambda v: isinstance(v, Decimal) and v > 0, "a positive decimal"),
    _at_least("fraud_review_threshold", 1, 1000),
    _at_least("fraud_suspected_threshold", 1, 1000),
    _at_least("velocity_max_transactions", 0),
    _at_least("velocity_window_seconds", 1, 86_400),
    _at_least("velocity_points", 0, 1000),
    _at_least("merchant_cache_ttl_seconds", 0, 3600),
    _require(
        "log_retention_days",
        lambda v: v in LOG_RETENTION_DAYS_ALLOWED,
        f"one of {LOG_RETENTION_DAYS_ALLOWED} (>= 365 for PCI DSS 10.5.1)",
    ),
    _require("lambda_architecture", lambda v: v in ("arm64", "x86_64"), "'arm64' or 'x86_64'"),
    _at_least("validation_memory_mb", 128, 10_240),
    _at_least("fraud_memory_mb", 128, 10_240),
    _at_least("failed_memory_mb", 128, 10_240),
    _at_least("validation_reserved_concurrency", 1),
    _at_least("validation_provisioned_concurrency", 0),
    _at_least("fraud_reserved_concurrency", 2),
    _at_least("failed_reserved_concurrency", 2),
    _at_least("queue_batch_size", 1, 10_000),
    _at_least("queue_batching_window_seconds", 0, 300),
    _at_least("queue_max_concurrency", 2, 1000),
    _at_least("dlq_batch_size", 1, 10),
    _at_least("dlq_max_concurrency", 2, 1000),
    _at_least("max_receive_count", 1, 1000),
    _cross_checks,
)
