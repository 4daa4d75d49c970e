"""The settings as the stacks use them: the names and sizes derived from them, and each function's
environment.

Every setting is declared once in ``settings/catalog.py`` (variable, type, default, bounds, docs and the
functions it is passed on to); ``Settings.from_env`` reads and checks them there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from card_transactions.settings import catalog, system


@dataclass(frozen=True)
class FunctionSizing:
    """Memory, timeout and concurrency of one Lambda function."""

    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    provisioned_concurrency: int = 0


@dataclass(frozen=True)
class ApiClient:
    """A client of the API: its own API key and usage plan (``API_CLIENTS``)."""

    name: str
    rate_limit: int
    burst_limit: int
    quota_per_day: int


@dataclass(frozen=True)
class CustomDomain:
    """The API's own domain name: its ACM certificate, TLS policy and, optionally, its Route 53 zone."""

    name: str
    certificate_arn: str
    security_policy: str
    hosted_zone_id: str = ""


# WAF rate limits stay this much above what the usage plans let a key send in one window.
WAF_HEADROOM = 1.25


def waf_limit(client: ApiClient, window_seconds: int) -> int:
    """Requests one key may send in a WAF window: what its usage plan admits there (rate x window + a
    full burst), with headroom, so a client at its plan's rate is never blocked by the WAF."""
    admitted = client.rate_limit * window_seconds + client.burst_limit
    return min(system.WAF_MAX_RATE_LIMIT, math.ceil(admitted * WAF_HEADROOM))


class Settings(catalog.Settings):
    """The synth settings and what the stacks derive from them."""

    def name(self, base: str) -> str:
        """Resource name ``{base}-{env}`` (``merchant-config-dev``)."""
        return f"{base}-{self.environment_suffix}"

    @property
    def merchant_table_name(self) -> str:
        return self.name("merchant-config")

    @property
    def api_key_table_name(self) -> str:
        return self.name("api-keys")

    @property
    def api_name(self) -> str:
        return self.name("transaction-api")

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
    def function_names(self) -> dict[str, str]:
        """Entry point -> function name of each Lambda function."""
        return {
            system.VALIDATION.entry_point: self.name("validation-lambda"),
            system.FRAUD_DETECTION.entry_point: self.name("fraud-detection-lambda"),
            system.FAILED_TRANSACTION.entry_point: self.name("failed-transaction-lambda"),
            system.RECONCILER.entry_point: self.name("reconciler-lambda"),
        }

    @property
    def reserved_concurrency(self) -> int:
        """What the functions reserve of the account's concurrency, together."""
        sizings = (self.validation, self.fraud_detection, self.failed_transaction, self.reconciler)
        return sum(f.reserved_concurrency for f in sizings)

    @property
    def validation(self) -> FunctionSizing:
        return FunctionSizing(
            self.validation_memory_mb,
            system.VALIDATION.timeout_seconds,
            catalog.validation_concurrency(self),
            self.validation_provisioned_concurrency,
        )

    @property
    def fraud_detection(self) -> FunctionSizing:
        return FunctionSizing(
            self.fraud_memory_mb, system.FRAUD_DETECTION.timeout_seconds, self.fraud_reserved_concurrency
        )

    @property
    def failed_transaction(self) -> FunctionSizing:
        return FunctionSizing(
            self.failed_memory_mb,
            system.FAILED_TRANSACTION.timeout_seconds,
            self.failed_reserved_concurrency,
        )

    @property
    def reconciler(self) -> FunctionSizing:
        """One run at a time: a run re-enqueues what it finds, a second one at once would find nothing."""
        return FunctionSizing(256, system.RECONCILER.timeout_seconds, reserved_concurrency=1)

    @property
    def custom_domain(self) -> CustomDomain | None:
        """The API's custom domain (TLS 1.2+), or None for the default execute-api endpoint."""
        if not self.api_domain_name:
            return None
        return CustomDomain(
            self.api_domain_name,
            self.api_certificate_arn,
            self.api_tls_security_policy,
            self.api_hosted_zone_id,
        )

    # --- API clients and WAF limits ---------------------------------------------------------

    @property
    def clients(self) -> tuple[ApiClient, ...]:
        """``API_CLIENTS``, each with its limits (the ``API_*`` values where it names none)."""
        clients = []
        for item in self.api_clients:
            name, *limits = item.split(":")
            rate, burst, quota = (
                (int(v) for v in limits)
                if limits
                else (self.api_rate_limit, self.api_burst_limit, self.api_quota_per_day)
            )
            clients.append(ApiClient(name, rate, burst, quota))
        return tuple(clients)

    def waf_limit_of(self, client: ApiClient) -> int:
        return waf_limit(client, self.waf_rate_window_seconds)

    @property
    def resolved_waf_key_rate_limit(self) -> int:
        return self.waf_key_rate_limit or max(self.waf_limit_of(c) for c in self.clients)

    @property
    def resolved_waf_rule_action_overrides(self) -> tuple[str, ...]:
        """``WAF_RULE_ACTION_OVERRIDES``, plus ``count`` for the common rule set's rules that
        ``WAF_COUNT_NO_USER_AGENT`` / ``WAF_COUNT_BODY_SIZE`` relax (an explicit override of either wins)."""
        named = {o.split("=")[0] for o in self.waf_rule_action_overrides}
        counted = [
            f"{system.WAF_COMMON_RULE_SET}:{rule}=count"
            for rule, relaxed in (
                (system.WAF_NO_USER_AGENT_RULE, self.waf_count_no_user_agent),
                (system.WAF_BODY_SIZE_RULE, self.waf_count_body_size),
            )
            if relaxed
            and system.WAF_COMMON_RULE_SET in self.waf_managed_rule_groups
            and f"{system.WAF_COMMON_RULE_SET}:{rule}" not in named
        ]
        return (*self.waf_rule_action_overrides, *counted)

    @property
    def resolved_waf_ip_rate_limit(self) -> int:
        derived = min(system.WAF_MAX_RATE_LIMIT, sum(self.waf_limit_of(c) for c in self.clients))
        return self.waf_ip_rate_limit or derived
