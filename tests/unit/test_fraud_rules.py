"""Fraud rules, table-driven: every rule, every boundary, thresholds, per-merchant overrides, velocity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from card_transactions.handlers.domain.fraud import (
    BASE_RULES,
    FraudStatus,
    FraudThresholds,
    ScoringInput,
    VelocityRule,
    assess,
    rules_for,
    status_for,
)

D = Decimal


def score(amount: str, currency: str = "USD", name: str = "Acme Stores", **kwargs) -> tuple[int, str, tuple]:
    result = assess(ScoringInput(D(amount), currency, name, **kwargs), kwargs.pop("rules", BASE_RULES))
    return result.score, result.status.value, result.reasons


@pytest.mark.parametrize(
    ("amount", "currency", "name", "expected_score", "expected_reasons"),
    [
        # HIGH_AMOUNT: strictly greater than 5000
        ("5000", "USD", "Acme", 10, ("ROUND_AMOUNT",)),
        ("5000.00", "USD", "Acme", 10, ("ROUND_AMOUNT",)),
        ("5000.01", "USD", "Acme", 30, ("HIGH_AMOUNT",)),
        ("4999.99", "USD", "Acme", 0, ()),
        ("6001", "USD", "Acme", 30, ("HIGH_AMOUNT",)),
        # ROUND_AMOUNT: whole multiples of 1000 only
        ("1000", "USD", "Acme", 10, ("ROUND_AMOUNT",)),
        ("1000.00", "USD", "Acme", 10, ("ROUND_AMOUNT",)),
        ("2000", "USD", "Acme", 10, ("ROUND_AMOUNT",)),
        ("1000.01", "USD", "Acme", 0, ()),
        ("999.99", "USD", "Acme", 0, ()),
        ("500", "USD", "Acme", 0, ()),
        ("1500", "USD", "Acme", 0, ()),
        ("10000", "USD", "Acme", 40, ("HIGH_AMOUNT", "ROUND_AMOUNT")),
        # SUSPICIOUS_MERCHANT_NAME: test/fake/dummy anywhere, any case
        ("10", "USD", "Test Merchant", 40, ("SUSPICIOUS_MERCHANT_NAME",)),
        ("10", "USD", "TESTING co", 40, ("SUSPICIOUS_MERCHANT_NAME",)),
        ("10", "USD", "my fake shop", 40, ("SUSPICIOUS_MERCHANT_NAME",)),
        ("10", "USD", "DuMmY", 40, ("SUSPICIOUS_MERCHANT_NAME",)),
        ("10", "USD", "Contest Hall", 40, ("SUSPICIOUS_MERCHANT_NAME",)),  # a substring counts
        ("10", "USD", "Tes Merchant", 0, ()),
        # UNUSUAL_CURRENCY: anything but USD/EUR/GBP
        ("10", "EUR", "Acme", 0, ()),
        ("10", "GBP", "Acme", 0, ()),
        ("10", "JPY", "Acme", 20, ("UNUSUAL_CURRENCY",)),
        (
            "10",
            "usd",
            "Acme",
            20,
            ("UNUSUAL_CURRENCY",),
        ),  # never reaches scoring: the model rejects lower case
        # combinations
        (
            "6000",
            "JPY",
            "Test Merchant",
            100,
            ("HIGH_AMOUNT", "SUSPICIOUS_MERCHANT_NAME", "UNUSUAL_CURRENCY", "ROUND_AMOUNT"),
        ),
        ("5000.01", "JPY", "Acme", 50, ("HIGH_AMOUNT", "UNUSUAL_CURRENCY")),
    ],
)
def test_each_rule_and_boundary(amount, currency, name, expected_score, expected_reasons):
    # GIVEN a transaction WHEN it is scored with the default thresholds
    got_score, _, reasons = score(amount, currency, name)
    # THEN exactly the expected rules fire
    assert got_score == expected_score
    assert reasons == expected_reasons


@pytest.mark.parametrize(
    ("score_value", "expected"),
    [
        (0, FraudStatus.APPROVED),
        (29, FraudStatus.APPROVED),
        (30, FraudStatus.REVIEW_REQUIRED),
        (49, FraudStatus.REVIEW_REQUIRED),
        (50, FraudStatus.FRAUD_SUSPECTED),
        (100, FraudStatus.FRAUD_SUSPECTED),
    ],
)
def test_status_thresholds(score_value, expected):
    assert status_for(score_value, FraudThresholds()) is expected


@pytest.mark.parametrize(
    ("amount", "currency", "name", "status"),
    [
        ("10", "USD", "Acme", "APPROVED"),
        ("1000", "USD", "Acme", "APPROVED"),  # 10
        ("10", "JPY", "Acme", "APPROVED"),  # 20
        ("2000", "JPY", "Acme", "REVIEW_REQUIRED"),  # 30
        ("5000.50", "USD", "Acme", "REVIEW_REQUIRED"),  # 30
        ("10", "USD", "Test Merchant", "REVIEW_REQUIRED"),  # 40 - the README's sample merchant
        ("1500.00", "USD", "Test Merchant", "REVIEW_REQUIRED"),
        ("1000", "USD", "Test Merchant", "FRAUD_SUSPECTED"),  # 50
        ("5001", "JPY", "Acme", "FRAUD_SUSPECTED"),  # 50
    ],
)
def test_statuses_end_to_end(amount, currency, name, status):
    assert score(amount, currency, name)[1] == status


def test_rules_are_data():
    assert [(r.name, r.points) for r in BASE_RULES] == [
        ("HIGH_AMOUNT", 30),
        ("SUSPICIOUS_MERCHANT_NAME", 40),
        ("UNUSUAL_CURRENCY", 20),
        ("ROUND_AMOUNT", 10),
    ]


@pytest.mark.parametrize(
    ("overrides", "amount", "expected_status"),
    [
        ({}, "6000.50", "REVIEW_REQUIRED"),
        ({"fraud_high_amount": D("10000")}, "6000.50", "APPROVED"),
        ({"fraud_high_amount": "100"}, "150", "REVIEW_REQUIRED"),
        ({"fraud_review_threshold": D("40")}, "6000.50", "APPROVED"),
        ({"fraud_suspected_threshold": 30}, "6000.50", "FRAUD_SUSPECTED"),
        ({"fraud_review_threshold": None}, "6000.50", "REVIEW_REQUIRED"),
    ],
)
def test_per_merchant_overrides(overrides, amount, expected_status):
    thresholds = FraudThresholds().with_overrides(overrides)
    assert score(amount, thresholds=thresholds)[1] == expected_status


@pytest.mark.parametrize(
    "overrides",
    [
        {"fraud_high_amount": "abc"},
        {"fraud_high_amount": "-5"},
        {"fraud_review_threshold": "2.5"},
        {"fraud_review_threshold": 60},  # above the suspected threshold 50
        {"fraud_suspected_threshold": True},
    ],
)
def test_bad_overrides_are_rejected(overrides):
    with pytest.raises(ValueError, match=r"fraud_|threshold"):
        FraudThresholds().with_overrides(overrides)


@pytest.mark.parametrize(
    ("velocity", "recent", "expected_score", "fired"),
    [
        (None, 100, 0, False),  # rule off: count ignored
        (VelocityRule(max_transactions=5), None, 0, False),
        (VelocityRule(max_transactions=5), 5, 0, False),  # not more than N
        (VelocityRule(max_transactions=5), 6, 20, True),
        (VelocityRule(max_transactions=5, points=35), 6, 35, True),
        (VelocityRule(max_transactions=1, window_seconds=10, points=50), 2, 50, True),
    ],
)
def test_velocity_rule(velocity, recent, expected_score, fired):
    result = assess(ScoringInput(D("10"), "USD", "Acme", recent_transactions=recent), rules_for(velocity))
    assert result.score == expected_score
    assert ("HIGH_VELOCITY" in result.reasons) is fired


def test_velocity_can_push_to_suspected():
    result = assess(
        ScoringInput(D("10"), "USD", "Test shop", recent_transactions=4), rules_for(VelocityRule(3, 60, 20))
    )
    assert (result.score, result.status) == (60, FraudStatus.FRAUD_SUSPECTED)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"high_amount": D("0")},
        {"high_amount": D("NaN")},
        {"review_threshold": -1},
        {"review_threshold": 60, "suspected_threshold": 50},
    ],
)
def test_thresholds_validate_eagerly(kwargs):
    with pytest.raises(ValueError, match="must be"):
        FraudThresholds(**kwargs)


@pytest.mark.parametrize("kwargs", [{"max_transactions": 0}, {"max_transactions": 3, "window_seconds": 0}])
def test_velocity_rule_validates(kwargs):
    with pytest.raises(ValueError, match="must be"):
        VelocityRule(**kwargs)


def test_default_thresholds():
    assert FraudThresholds() == FraudThresholds(D("5000"), 30, 50)
