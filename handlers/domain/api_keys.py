"""Which API client a calling key belongs to.

The API key table (``api-keys-{env}``) has one item per key that ``python -m tools.clients`` created:
``key_id`` (API Gateway's id, never the value), ``client``, ``state`` (``active``, ``retiring`` during a
rotation's grace period, ``revoked``), ``created_at`` and, while retiring, ``retire_after``. A key's
client never changes, so the validation function reads it once per container and key (misses too, for
the cache's TTL). A revoked key is deleted from API Gateway, which refuses it before the function runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.ports import ApiKeySource

KEY_ID_ATTRIBUTE = "key_id"
CLIENT_ATTRIBUTE = "client"


class KeyState(StrEnum):
    ACTIVE = "active"
    RETIRING = "retiring"  # replaced by a rotation; still accepted until finish-rotation
    REVOKED = "revoked"


def client_of_item(item: Mapping[str, Any] | None) -> str | None:
    """The client an item of the key table names, unless the key is revoked or the item malformed."""
    if item is None or item.get("state") == KeyState.REVOKED:
        return None
    client = item.get(CLIENT_ATTRIBUTE)
    return client if isinstance(client, str) and client else None


class ApiKeyDirectory:
    """Reads the key table through ``cache``; ``DependencyError`` from the source propagates."""

    def __init__(self, source: ApiKeySource, cache: TTLCache[str | None]) -> None:
        self._source = source
        self._cache = cache

    def client_of(self, key_id: str) -> str | None:
        return self._cache.get_or_load(key_id, lambda: client_of_item(self._source.get(key_id)))
