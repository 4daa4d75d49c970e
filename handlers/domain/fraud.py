"""Fraud scoring: the rules, held as data, with configurable thresholds.

Rules (points are fixed; thresholds and the velocity rule are settings):
  amount > high_amount (strictly)                       +30  HIGH_AMOUNT
  merchant name contains test/fake/dummy (any case)     +40  SUSPICIOUS_MERCHANT_NAME
  currency not in USD/EUR/GBP                           +20  UNUSUAL_CURRENCY
  amount is a whole multiple of 1000                    +10  ROUND_AMOUNT
  optional velocity rule: more than N transactions of the merchant within the window  +points  HIGH_VELOCITY
Score >= suspected_threshold -> FRAUD_SUSPECTED; >= review_threshold -> REVIEW_REQUIRED; else APPROVED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum

COMMON_CURRENCIES = frozenset({"USD", "EUR", "GBP"})
SUSPICIOUS_NAME_MARKERS = ("test", "fake", "dummy")
ROUND_AMOUNT_UNIT = Decimal(1000)

# Optional per-merchant overrides read from the merchant-config item (and carried in the queue message).
MERCHANT_OVERRIDE_FIELDS = ("fraud_high_amount", "fraud_review_threshold", "fraud_suspected_threshold")


class FraudStatus(StrEnum):
    APPROVED = "APPROVED"
    REVIEW_REQUIRED = "REVIEW_REQUIRED"
    FRAUD_SUSPECTED = "FRAUD_SUSPECTED"


@dataclass(frozen=True)
class FraudThresholds:
    """Global fraud thresholds; a merchant item may override each one (see `with_overrides`)."""

    high_amount: Decimal = Decimal("5000")
    review_threshold: int = 30
    suspected_threshold: int = 50

    def __post_init__(self) -> None:
        if (
            not isinstance(self.high_amount, Decimal)
            or not self.high_amount.is_finite()
            or self.high_amount <= 0
        ):
            raise ValueError(f"high_amount must be a finite Decimal > 0, got {self.high_amount!r}")
        for name in ("review_threshold", "suspected_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if self.suspected_threshold < self.review_threshold:
            raise ValueError(
                f"suspected_threshold must be >= review_threshold, got {self.suspected_threshold} < "
                f"{self.review_threshold}"
            )

    def with_overrides(self, overrides: Mapping[str, object] | None) -> FraudThresholds:
        """Apply per-merchant overrides (`fraud_high_amount`, `fraud_review_threshold`,
        `fraud_suspected_threshold`); absent or None values keep the global value.
        Raises ValueError on a bad value."""
        if not overrides or all(overrides.get(name) is None for name in MERCHANT_OVERRIDE_FIELDS):
            return self
        high_amount, review, suspected = (overrides.get(name) for name in MERCHANT_OVERRIDE_FIELDS)
        return replace(
            self,
            high_amount=self.high_amount
            if high_amount is None
            else _to_decimal("fraud_high_amount", high_amount),
            review_threshold=self.review_threshold
            if review is None
            else _to_int("fraud_review_threshold", review),
            suspected_threshold=(
                self.suspected_threshold
                if suspected is None
                else _to_int("fraud_suspected_threshold", suspected)
            ),
        )


@dataclass(frozen=True)
class VelocityRule:
    """More than `max_transactions` transactions of one merchant within `window_seconds` adds `points`."""

    max_transactions: int
    window_seconds: int = 60
    points: int = 20

    def __post_init__(self) -> None:
        for name, minimum in (("max_transactions", 1), ("window_seconds", 1), ("points", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")

    @property
    def window_ms(self) -> int:
        return self.window_seconds * 1000


@dataclass(frozen=True)
class ScoringInput:
    """What the rules look at. `recent_transactions` counts the merchant's transactions in the velocity
    window, this one included (None when the velocity rule is off)."""

    amount: Decimal
    currency: str
    merchant_name: str
    thresholds: FraudThresholds = field(default_factory=FraudThresholds)
    recent_transactions: int | None = None


@dataclass(frozen=True)
class FraudRule:
    name: str
    points: int
    predicate: Callable[[ScoringInput], bool]


@dataclass(frozen=True)
class FraudAssessment:
    score: int
    status: FraudStatus
    reasons: tuple[str, ...]


def _is_round_amount(amount: Decimal) -> bool:
    return amount > 0 and amount % ROUND_AMOUNT_UNIT == 0


BASE_RULES: tuple[FraudRule, ...] = (
    FraudRule("HIGH_AMOUNT", 30, lambda s: s.amount > s.thresholds.high_amount),
    FraudRule(
        "SUSPICIOUS_MERCHANT_NAME",
        40,
        lambda s: any(marker in s.merchant_name.casefold() for marker in SUSPICIOUS_NAME_MARKERS),
    ),
    FraudRule("UNUSUAL_CURRENCY", 20, lambda s: s.currency not in COMMON_CURRENCIES),
    FraudRule("ROUND_AMOUNT", 10, lambda s: _is_round_amount(s.amount)),
)


def velocity_fraud_rule(rule: VelocityRule) -> FraudRule:
    return FraudRule(
        "HIGH_VELOCITY",
        rule.points,
        lambda s: s.recent_transactions is not None and s.recent_transactions > rule.max_transactions,
    )


def rules_for(velocity: VelocityRule | None) -> tuple[FraudRule, ...]:
    return BASE_RULES if velocity is None else (*BASE_RULES, velocity_fraud_rule(velocity))


def status_for(score: int, thresholds: FraudThresholds) -> FraudStatus:
    if score >= thresholds.suspected_threshold:
        return FraudStatus.FRAUD_SUSPECTED
    if score >= thresholds.review_threshold:
        return FraudStatus.REVIEW_REQUIRED
    return FraudStatus.APPROVED


def assess(subject: ScoringInput, rules: tuple[FraudRule, ...] = BASE_RULES) -> FraudAssessment:
    fired = tuple(rule for rule in rules if rule.predicate(subject))
    score = sum(rule.points for rule in fired)
    return FraudAssessment(
        score=score, status=status_for(score, subject.thresholds), reasons=tuple(r.name for r in fired)
    )


def _to_decimal(name: str, value: object) -> Decimal:
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if isinstance(value, bool) or not result.is_finite() or result <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return result


def _to_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
        if not dec.is_finite() or dec != dec.to_integral_value():
            raise ValueError
        return int(dec)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc
