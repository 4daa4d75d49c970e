"""A small in-memory TTL cache (per container) with a bounded size; the clock is injected."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    def __init__(
        self, ttl_seconds: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ):
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must be >= 0, got {ttl_seconds}")
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get_or_load(self, key: Hashable, loader: Callable[[], V]) -> V:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = loader()
        self.put(key, value)
        return value

    def holds(self, key: Hashable) -> bool:
        """True when ``key`` has an entry that has not expired."""
        entry = self._entries.get(key)
        return entry is not None and entry[0] > self._clock()

    def put(self, key: Hashable, value: V) -> None:
        if self.ttl_seconds > 0:
            self._entries[key] = (self._clock() + self.ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
