"""How long a failed queue record waits before its next attempt: exponential back-off per receive."""

from __future__ import annotations

from dataclasses import dataclass

SQS_MAX_VISIBILITY_SECONDS = 43_200


@dataclass(frozen=True)
class Backoff:
    """``base * 2^(receive_count - 1)`` seconds, at most ``max_seconds`` (and SQS's 12 hours)."""

    base_seconds: int
    max_seconds: int

    def delay(self, receive_count: int) -> int:
        """Seconds before the next receive of a record received ``receive_count`` times (1 = first)."""
        exponent = min(max(receive_count, 1) - 1, 32)  # 2^32 x any base is past every cap
        grown: int = self.base_seconds << exponent
        return min(grown, self.max_seconds, SQS_MAX_VISIBILITY_SECONDS)

    def span(self, receives: int) -> int:
        """Seconds from the first receive to the last of ``receives`` receives, when every one fails."""
        return sum(self.delay(n) for n in range(1, receives))
