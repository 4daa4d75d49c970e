"""Counts of the AWS requests made through a boto3 session, by service and operation.

Hooked on botocore's ``before-send`` event, so it counts each HTTP attempt that reaches the endpoint,
retries included: what AWS would bill. Calls short-circuited by fault injection never get there.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any


class Tally:
    """A thread-safe counter of named events."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._counts.update(counts)

    def take(self) -> dict[str, int]:
        """The counts so far, then start again from zero."""
        with self._lock:
            taken, self._counts = dict(self._counts), Counter()
        return taken

    def summary(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))


class RequestCounter(Tally):
    def install(self, events: Any) -> None:
        events.register("before-send", self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        # event_name is "before-send.<service>.<Operation>"
        service, operation = event_name.split(".", 2)[1:]
        self.add({f"{service}:{operation}": 1})
