"""Runtime settings: the exact environment contract with the stack, defaults, and eager errors."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from card_transactions.handlers.domain.fraud import FraudThresholds, VelocityRule
from card_transactions.handlers.runtime_settings import (
    FailedTransactionSettings,
    FraudDetectionSettings,
    ReconcilerSettings,
    ValidationSettings,
)

BASE = {
    "MERCHANT_TABLE_NAME": "merchant-config-dev",
    "TRANSACTION_TABLE_NAME": "processed-transactions-dev",
    "API_KEY_TABLE_NAME": "api-keys-dev",
}


def test_env_var_contract():
    assert set(ValidationSettings.ENV_VARS) == {
        "MERCHANT_TABLE_NAME",
        "TRANSACTION_TABLE_NAME",
        "MERCHANT_CACHE_TTL_SECONDS",
        "MAX_BODY_BYTES",
        "REQUIRE_MERCHANT_CLIENTS",
        "API_KEY_TABLE_NAME",
    }
    assert set(FraudDetectionSettings.ENV_VARS) == {
        "MERCHANT_TABLE_NAME",
        "MERCHANT_CACHE_TTL_SECONDS",
        "TRANSACTION_TABLE_NAME",
        "FRAUD_HIGH_AMOUNT",
        "FRAUD_REVIEW_THRESHOLD",
        "FRAUD_SUSPECTED_THRESHOLD",
        "VELOCITY_MAX_TRANSACTIONS",
        "VELOCITY_WINDOW_SECONDS",
        "VELOCITY_POINTS",
    }
    assert set(FailedTransactionSettings.ENV_VARS) == {
        "MERCHANT_TABLE_NAME",
        "TRANSACTION_TABLE_NAME",
    }
    assert set(ReconcilerSettings.ENV_VARS) == {
        "TRANSACTION_TABLE_NAME",
        "RECONCILE_AFTER_SECONDS",
        "RECONCILE_MAX_RECORDS",
    }


@pytest.mark.parametrize(
    "cls", [ValidationSettings, FraudDetectionSettings, FailedTransactionSettings, ReconcilerSettings]
)
def test_reads_only_declared_variables(cls):
    class Recording(dict):
        seen: set[str] = set()

        def get(self, key, default=None):
            self.seen.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.seen.add(key)
            return super().__getitem__(key)

    env = Recording(BASE)
    settings = cls.from_env(env)
    assert env.seen <= set(cls.ENV_VARS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.transaction_table_name = "other"


def test_defaults():
    validation = ValidationSettings.from_env(BASE)
    assert (validation.merchant_cache_ttl_seconds, validation.max_body_bytes) == (60, 8192)
    fraud = FraudDetectionSettings.from_env(BASE)
    assert fraud.thresholds == FraudThresholds()
    assert fraud.velocity is None


def test_fraud_overrides_and_velocity():
    fraud = FraudDetectionSettings.from_env(
        {
            **BASE,
            "FRAUD_HIGH_AMOUNT": "7500.50",
            "FRAUD_REVIEW_THRESHOLD": "20",
            "FRAUD_SUSPECTED_THRESHOLD": "60",
            "VELOCITY_MAX_TRANSACTIONS": "10",
            "VELOCITY_WINDOW_SECONDS": "30",
            "VELOCITY_POINTS": "25",
        }
    )
    assert fraud.thresholds == FraudThresholds(Decimal("7500.50"), 20, 60)
    assert fraud.velocity == VelocityRule(10, 30, 25)
    assert FraudDetectionSettings.from_env({**BASE, "VELOCITY_MAX_TRANSACTIONS": ""}).velocity is None


@pytest.mark.parametrize(
    ("cls", "env", "name", "value"),
    [
        (ValidationSettings, {"MERCHANT_TABLE_NAME": ""}, "MERCHANT_TABLE_NAME", "''"),
        (ValidationSettings, {"MERCHANT_CACHE_TTL_SECONDS": "soon"}, "MERCHANT_CACHE_TTL_SECONDS", "'soon'"),
        (ValidationSettings, {"MERCHANT_CACHE_TTL_SECONDS": "-1"}, "MERCHANT_CACHE_TTL_SECONDS", "'-1'"),
        (ValidationSettings, {"MAX_BODY_BYTES": "12"}, "MAX_BODY_BYTES", "'12'"),
        (FraudDetectionSettings, {"FRAUD_HIGH_AMOUNT": "lots"}, "FRAUD_HIGH_AMOUNT", "'lots'"),
        (FraudDetectionSettings, {"FRAUD_HIGH_AMOUNT": "0"}, "FRAUD_HIGH_AMOUNT", "'0'"),
        (FraudDetectionSettings, {"FRAUD_REVIEW_THRESHOLD": "3.5"}, "FRAUD_REVIEW_THRESHOLD", "'3.5'"),
        (FraudDetectionSettings, {"FRAUD_SUSPECTED_THRESHOLD": "10"}, "FRAUD_SUSPECTED_THRESHOLD", "'10'"),
        (FraudDetectionSettings, {"VELOCITY_MAX_TRANSACTIONS": "0"}, "VELOCITY_MAX_TRANSACTIONS", "'0'"),
        (FraudDetectionSettings, {"VELOCITY_WINDOW_SECONDS": "x"}, "VELOCITY_WINDOW_SECONDS", "'x'"),
        (FailedTransactionSettings, {"TRANSACTION_TABLE_NAME": " "}, "TRANSACTION_TABLE_NAME", "' '"),
    ],
)
def test_errors_name_variable_and_value(cls, env, name, value):
    with pytest.raises(ValueError, match=name) as caught:
        cls.from_env({**BASE, **env})
    assert value in str(caught.value)


def test_the_validation_function_reads_the_api_key_table():
    settings = ValidationSettings.from_env(BASE)
    assert settings.api_key_table_name == "api-keys-dev"
    assert settings.require_merchant_clients is False
