"""Powertools wiring shared by the three entry points (only the pieces used, to keep the import light)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

DEFAULT_NAMESPACE = "TransactionProcessing"


@dataclass(frozen=True)
class Observability:
    service: str
    namespace: str
    logger: Logger
    tracer: Any  # aws_lambda_powertools Tracer, or NoopTracer when tracing is off
    metrics: Metrics

    def count(self, name: str, value: float = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def count_by(self, name: str, dimension: str, counts: Counter[str]) -> None:
        """One EMF blob per dimension value (e.g. FraudStatus by status, TransactionsRejected by code)."""
        for key, value in counts.items():
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=self.namespace,
                default_dimensions={"service": self.service},
            ) as metric:
                metric.add_dimension(name=dimension, value=key)


class NoopTracer:
    """Same decorator API as Powertools' Tracer, doing nothing. Used when tracing is off, because constructing
    a Tracer imports the X-Ray SDK (~100+ ms of cold start) even when it is disabled."""

    @staticmethod
    def _decorator(func: Any = None, **_: Any) -> Any:
        return func if func is not None else (lambda f: f)

    capture_lambda_handler = _decorator
    capture_method = _decorator

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def tracing_enabled() -> bool:
    """Powertools' rule: off with POWERTOOLS_TRACE_DISABLED=true, outside Lambda, under SAM/Chalice."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on"):
        return False
    if os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(os.environ.get("AWS_LAMBDA_TASK_ROOT"))


def make_tracer(service: str) -> Any:
    if not tracing_enabled():
        return NoopTracer()
    from aws_lambda_powertools.tracing import Tracer

    # Only botocore is patched: every AWS call becomes a subsegment, nothing else is imported.
    return Tracer(service=service, patch_modules=("botocore",))


def observability(default_service: str) -> Observability:
    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or default_service
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    return Observability(
        service=service,
        namespace=namespace,
        logger=Logger(service=service),
        tracer=make_tracer(service),
        # An own provider: Metrics() alone shares one class-level metric set between all instances, which
        # would mix the three functions' metrics when a local runtime runs them in one process.
        metrics=Metrics(provider=AmazonCloudWatchEMFProvider(namespace=namespace, service=service)),
    )


class LocalContext:
    """Stand-in LambdaContext for callers that pass none (a local runtime calling handler(event, None))."""

    function_name = "local"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-2:000000000000:function:local"
    memory_limit_in_mb = 128
    aws_request_id = "local-request"
    log_group_name = "local"
    log_stream_name = "local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
