"""The functions' CloudWatch metrics, read from their output like CloudWatch reads EMF from the logs.

A line of a function's stdout that is an Embedded Metric Format document (a JSON object with an ``_aws``
key) is counted, not printed: per function, each metric's values are summed, keyed by the metric name
and its dimensions other than ``service`` (``FraudStatus{status=APPROVED}``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any


def metric_values(document: dict[str, Any]) -> dict[str, float]:
    """``{metric key: sum of values}`` of one EMF document."""
    values: dict[str, float] = {}
    for directive in document["_aws"].get("CloudWatchMetrics", []):
        dimensions = {
            name: document.get(name)
            for dimension_set in directive.get("Dimensions", [])
            for name in dimension_set
            if name != "service"
        }
        suffix = ",".join(f"{k}={v}" for k, v in sorted(dimensions.items()))
        for metric in directive.get("Metrics", []):
            value = document.get(metric["Name"], 0)
            total = sum(value) if isinstance(value, list) else value
            key = f"{metric['Name']}{{{suffix}}}" if suffix else metric["Name"]
            values[key] = values.get(key, 0) + total
    return values


def parse_emf(line: str) -> dict[str, float] | None:
    """The metrics of ``line`` when it is an EMF document, else None."""
    if not line.startswith("{") or '"_aws"' not in line:
        return None
    try:
        document = json.loads(line)
        return metric_values(document) if isinstance(document, dict) and "_aws" in document else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class MetricsSink:
    def __init__(self) -> None:
        self._totals: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def record(self, function: str, values: dict[str, float]) -> None:
        with self._lock:
            self._totals.setdefault(function, Counter()).update(values)

    def summary(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {name: dict(sorted(totals.items())) for name, totals in sorted(self._totals.items())}
