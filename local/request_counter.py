"""Counts the AWS requests made through a boto3 session, by service and operation.

Hooked on botocore's ``before-send`` event, so it counts each HTTP attempt that reaches the endpoint,
retries included: what AWS would bill. Calls short-circuited by fault injection never get there.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestCounter:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self, events: Any) -> None:
        events.register("before-send", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        # event_name is "before-send.<service>.<Operation>"
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self._counts[f"{service}:{operation}"] += 1

    def summary(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))
