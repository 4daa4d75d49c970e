"""The API's usage plan: a token bucket (rate, burst) and a quota per period, per API key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# API Gateway's response types of the two refusals (handlers/gateway_responses.py)
THROTTLED = "THROTTLED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; a request takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


def period_start(moment: datetime, period: str) -> datetime:
    """Start (UTC) of the quota period holding ``moment``: DAY, WEEK (from Monday) or MONTH."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "DAY":
        return day
    if period == "WEEK":
        return day - timedelta(days=day.weekday())
    if period == "MONTH":
        return day.replace(day=1)
    raise ValueError(f"quota period must be DAY, WEEK or MONTH, got {period!r}")


class Quota:
    def __init__(self, limit: int, period: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        period_start(clock(), period)  # validate eagerly
        self.limit = limit
        self.period = period
        self._clock = clock
        self._start: datetime | None = None
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            start = period_start(self._clock(), self.period)
            if start != self._start:
                self._start, self.used = start, 0
            if self.used >= self.limit:
                return False
            self.used += 1
            return True


class UsagePlan:
    """Throttling first (429 THROTTLED), then the quota (429 QUOTA_EXCEEDED), per key."""

    def __init__(self, rate: float, burst: int, quota_limit: int | None, quota_period: str | None) -> None:
        self._rate, self._burst = rate, burst
        self._quota = (quota_limit, quota_period or "DAY")
        self._buckets: dict[str, tuple[TokenBucket, Quota | None]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> str | None:
        """None when the request may proceed, else the gateway response type of the 429."""
        with self._lock:
            if key not in self._buckets:
                limit, period = self._quota
                self._buckets[key] = (
                    TokenBucket(self._rate, self._burst),
                    Quota(limit, period) if limit else None,
                )
            bucket, quota = self._buckets[key]
        if not bucket.take():
            return THROTTLED
        if quota is not None and not quota.take():
            return QUOTA_EXCEEDED
        return None
