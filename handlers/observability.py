"""Powertools for every entry point: logger, tracer and metrics of one function, and counting helpers.

Only the Powertools modules used are imported, to keep the cold start light. Every value comes from the
function's environment as Powertools reads it (``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``,
``POWERTOOLS_TRACE_DISABLED``); the service name is the function's, from ``settings.system``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from card_transactions.settings.model import Function

F = TypeVar("F", bound=Callable[..., Any])


class NoopTracer:
    """Powertools Tracer's decorator API, doing nothing. Used when tracing is off: constructing a Tracer
    imports the X-Ray SDK (~100+ ms) even when it is disabled."""

    @staticmethod
    def _decorator(func: Any = None, **_: Any) -> Any:
        return func if func is not None else (lambda f: f)

    capture_lambda_handler = _decorator
    capture_method = _decorator


def tracing_enabled() -> bool:
    """Powertools' rule: off with POWERTOOLS_TRACE_DISABLED=true, outside Lambda, under SAM/Chalice."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes"):
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


@dataclass(frozen=True)
class Observability:
    """The logger, tracer and metrics of one function."""

    function: Function
    logger: Logger
    tracer: Any  # Powertools Tracer, or NoopTracer when tracing is off
    metrics: Metrics

    def count(self, name: str, value: float = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def count_by(self, name: str, dimension: str, counts: Counter[str]) -> None:
        """One EMF blob per dimension value (FraudStatus by status, TransactionsRejected by code)."""
        for key, value in counts.items():
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=self.metrics.provider.namespace,
                default_dimensions={"service": self.function.service},
            ) as metric:
                metric.add_dimension(name=dimension, value=key)


def observability(function: Function) -> Observability:
    return Observability(
        function=function,
        logger=Logger(service=function.service),
        tracer=make_tracer(function.service),
        metrics=Metrics(service=function.service),
    )
