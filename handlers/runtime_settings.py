"""Settings of each Lambda function, read from its environment.

`ENV_VARS` lists exactly the variables a function reads (the stack sets exactly these plus the
POWERTOOLS_* ones; an infrastructure test asserts equality). `from_env` raises ValueError naming the
variable and the bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from handlers.domain.fraud import FraudThresholds, VelocityRule

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ValueError(f"{name} must be set, got {environ.get(name)!r}")
    return value


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {raw!r}")
    return value


def _decimal(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {raw!r}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class ValidationSettings:
    ENV_VARS: ClassVar[tuple[str, ...]] = (
        "MERCHANT_TABLE_NAME",
        "QUEUE_URL",
        "TRANSACTION_TABLE_NAME",
        "MERCHANT_CACHE_TTL_SECONDS",
        "MAX_BODY_BYTES",
    )

    merchant_table_name: str
    queue_url: str
    transaction_table_name: str
    merchant_cache_ttl_seconds: int = 60
    max_body_bytes: int = 8192

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ValidationSettings:
        return cls(
            merchant_table_name=_required(environ, "MERCHANT_TABLE_NAME"),
            queue_url=_required(environ, "QUEUE_URL"),
            transaction_table_name=_required(environ, "TRANSACTION_TABLE_NAME"),
            merchant_cache_ttl_seconds=_int(environ, "MERCHANT_CACHE_TTL_SECONDS", 60, minimum=0),
            max_body_bytes=_int(environ, "MAX_BODY_BYTES", 8192, minimum=256),
        )


@dataclass(frozen=True)
class FraudDetectionSettings:
    ENV_VARS: ClassVar[tuple[str, ...]] = (
        "TRANSACTION_TABLE_NAME",
        "SNS_TOPIC_ARN",
        "FRAUD_HIGH_AMOUNT",
        "FRAUD_REVIEW_THRESHOLD",
        "FRAUD_SUSPECTED_THRESHOLD",
        "ALERT_ON_REVIEW_REQUIRED",
        "VELOCITY_MAX_TRANSACTIONS",
        "VELOCITY_WINDOW_SECONDS",
        "VELOCITY_POINTS",
    )

    transaction_table_name: str
    sns_topic_arn: str
    thresholds: FraudThresholds = field(default_factory=FraudThresholds)
    alert_on_review_required: bool = False
    velocity: VelocityRule | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FraudDetectionSettings:
        defaults = FraudThresholds()
        review = _int(environ, "FRAUD_REVIEW_THRESHOLD", defaults.review_threshold, minimum=0)
        suspected = _int(environ, "FRAUD_SUSPECTED_THRESHOLD", defaults.suspected_threshold, minimum=0)
        if suspected < review:
            raise ValueError(
                f"FRAUD_SUSPECTED_THRESHOLD must be >= FRAUD_REVIEW_THRESHOLD ({review}), "
                f"got {str(suspected)!r}"
            )
        thresholds = FraudThresholds(
            high_amount=_decimal(environ, "FRAUD_HIGH_AMOUNT", defaults.high_amount),
            review_threshold=review,
            suspected_threshold=suspected,
        )
        window = _int(environ, "VELOCITY_WINDOW_SECONDS", 60, minimum=1)
        points = _int(environ, "VELOCITY_POINTS", 20, minimum=0)
        velocity = None
        if environ.get("VELOCITY_MAX_TRANSACTIONS", "").strip():  # empty or unset: the rule is off
            max_tx = _int(environ, "VELOCITY_MAX_TRANSACTIONS", 0, minimum=1)
            velocity = VelocityRule(max_transactions=max_tx, window_seconds=window, points=points)
        return cls(
            transaction_table_name=_required(environ, "TRANSACTION_TABLE_NAME"),
            sns_topic_arn=_required(environ, "SNS_TOPIC_ARN"),
            thresholds=thresholds,
            alert_on_review_required=_bool(environ, "ALERT_ON_REVIEW_REQUIRED", False),
            velocity=velocity,
        )


@dataclass(frozen=True)
class FailedTransactionSettings:
    ENV_VARS: ClassVar[tuple[str, ...]] = ("TRANSACTION_TABLE_NAME", "SNS_TOPIC_ARN")

    transaction_table_name: str
    sns_topic_arn: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FailedTransactionSettings:
        return cls(
            transaction_table_name=_required(environ, "TRANSACTION_TABLE_NAME"),
            sns_topic_arn=_required(environ, "SNS_TOPIC_ARN"),
        )
