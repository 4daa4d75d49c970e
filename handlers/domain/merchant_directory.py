"""Merchant configuration as both functions read it: through a per-container TTL cache, many at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.merchant import Merchant
from card_transactions.handlers.domain.ports import MerchantSource

logger = logging.getLogger(__name__)


class MerchantDirectory:
    """Reads merchants from ``source`` through ``cache`` (misses are cached too).

    A malformed item fails closed: it reads as an inactive merchant with no name, no limit and no
    overrides, and is logged. ``DependencyError`` from the source propagates.
    """

    def __init__(self, source: MerchantSource, cache: TTLCache[Merchant | None]) -> None:
        self._source = source
        self._cache = cache

    def get(self, merchant_id: str) -> Merchant | None:
        return self._cache.get_or_load(
            merchant_id, lambda: _parse(merchant_id, self._source.get(merchant_id))
        )

    def prefetch(self, merchant_ids: Iterable[str]) -> None:
        """Load every merchant of ``merchant_ids`` the cache lacks with one batch read."""
        missing = [m for m in dict.fromkeys(merchant_ids) if not self._cache.holds(m)]
        if not missing or self._cache.ttl_seconds == 0:
            return
        items = self._source.get_many(missing)
        for merchant_id in missing:
            self._cache.put(merchant_id, _parse(merchant_id, items.get(merchant_id)))


def _parse(merchant_id: str, item: Mapping[str, Any] | None) -> Merchant | None:
    if item is None:
        return None
    try:
        return Merchant.from_item(item)
    except ValueError as exc:  # fail closed: a malformed config cannot take transactions
        logger.error("merchant config item is malformed, treating it as inactive", extra={"reason": str(exc)})
        return Merchant(merchant_id, "", active=False, max_transaction_amount=Decimal(0))
