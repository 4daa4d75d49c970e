"""The settings as the stacks use them: the names and sizes derived from them, and each function's
environment.

Every setting is declared once in ``settings/catalog.py`` (variable, type, default, bounds, docs and the
functions it is passed on to); ``Settings.from_env`` reads and checks them there.
"""

from __future__ import annotations

from dataclasses import dataclass

from settings import catalog
from settings.model import Function, environment_for


@dataclass(frozen=True)
class FunctionSizing:
    """Memory, timeout and concurrency of one Lambda function."""

    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    provisioned_concurrency: int = 0


class Settings(catalog.Settings):
    """The synth settings and what the stacks derive from them."""

    def name(self, base: str) -> str:
        """Resource name ``{base}-{env}`` (``merchant-config-dev``)."""
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
    def resolved_state_key(self) -> str:
        return self.state_key or f"{self.project}/{self.environment_suffix}/terraform.tfstate"

    @property
    def resolved_state_lock_table(self) -> str:
        return self.state_lock_table or f"{self.project}-tflock-{self.environment_suffix}"

    @property
    def access_log_bucket(self) -> str:
        """Bucket (made by the bootstrap stack) receiving the S3 server access logs of every bucket."""
        return f"{self.project}-access-logs-{self.environment_suffix}"

    @property
    def artifact_bucket(self) -> str:
        """Bucket holding the Lambda deployment packages, unsigned and signed."""
        return f"{self.project}-artifacts-{self.environment_suffix}"

    @property
    def validation(self) -> FunctionSizing:
        return FunctionSizing(
            self.validation_memory_mb,
            catalog.VALIDATION.timeout_seconds,
            self.validation_reserved_concurrency,
            self.validation_provisioned_concurrency,
        )

    @property
    def fraud_detection(self) -> FunctionSizing:
        return FunctionSizing(
            self.fraud_memory_mb, catalog.FRAUD_DETECTION.timeout_seconds, self.fraud_reserved_concurrency
        )

    @property
    def failed_transaction(self) -> FunctionSizing:
        return FunctionSizing(
            self.failed_memory_mb,
            catalog.FAILED_TRANSACTION.timeout_seconds,
            self.failed_reserved_concurrency,
        )

    @property
    def reconciler(self) -> FunctionSizing:
        """One run at a time: a run re-enqueues what it finds, a second one at once would find nothing."""
        return FunctionSizing(256, catalog.RECONCILER.timeout_seconds, reserved_concurrency=1)

    def function_environment(
        self, function: Function, resources: catalog.FunctionResources
    ) -> dict[str, str]:
        """Every variable ``function`` gets: Powertools' and each setting the catalog passes to it."""
        return catalog.observability_environment(function, self.environment_suffix) | environment_for(
            function, self, resources
        )
