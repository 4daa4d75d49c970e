"""What each Lambda function reads from its environment: a typed view of the settings the catalog
(``settings/catalog.py``) passes to it, read and checked through the catalog's declarations.

A view's fields must be exactly the settings the catalog gives its function (``FunctionView.declared``
fails otherwise), so the stack sets exactly ``ENV_VARS`` plus Powertools' variables. ``from_env`` raises
ValueError naming the variable and the bad value.
"""

from __future__ import annotations

from decimal import Decimal

from card_transactions.handlers.domain.fraud import FraudThresholds, VelocityRule
from card_transactions.settings.catalog import FunctionSettings
from card_transactions.settings.model import Function
from card_transactions.settings.system import FAILED_TRANSACTION, FRAUD_DETECTION, RECONCILER, VALIDATION


class ValidationSettings(FunctionSettings):
    FUNCTION = VALIDATION

    merchant_table_name: str
    transaction_table_name: str
    merchant_cache_ttl_seconds: int
    max_body_bytes: int
    require_merchant_clients: bool
    api_key_table_name: str


class FraudDetectionSettings(FunctionSettings):
    FUNCTION = FRAUD_DETECTION

    merchant_table_name: str
    merchant_cache_ttl_seconds: int
    transaction_table_name: str
    fraud_high_amount: Decimal
    fraud_review_threshold: int
    fraud_suspected_threshold: int
    velocity_max_transactions: int | None
    velocity_window_seconds: int
    velocity_points: int

    @property
    def thresholds(self) -> FraudThresholds:
        return FraudThresholds(
            high_amount=self.fraud_high_amount,
            review_threshold=self.fraud_review_threshold,
            suspected_threshold=self.fraud_suspected_threshold,
        )

    @property
    def velocity(self) -> VelocityRule | None:
        """The velocity rule, or None when it is off (VELOCITY_MAX_TRANSACTIONS unset)."""
        if self.velocity_max_transactions is None:
            return None
        return VelocityRule(
            self.velocity_max_transactions, self.velocity_window_seconds, self.velocity_points
        )


class FailedTransactionSettings(FunctionSettings):
    FUNCTION = FAILED_TRANSACTION

    merchant_table_name: str
    transaction_table_name: str


class ReconcilerSettings(FunctionSettings):
    FUNCTION = RECONCILER

    transaction_table_name: str
    reconcile_after_seconds: int
    reconcile_max_records: int


SETTINGS_OF: dict[Function, type[FunctionSettings]] = {
    view.FUNCTION: view
    for view in (ValidationSettings, FraudDetectionSettings, FailedTransactionSettings, ReconcilerSettings)
}
"""The view each function reads its environment with, for whoever checks a function's environment
before running it."""
