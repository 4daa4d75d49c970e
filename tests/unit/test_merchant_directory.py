"""Merchants as both functions read them: cached, batched, unprocessed keys retried, malformed fail closed."""

from __future__ import annotations

from typing import Any

import pytest

from card_transactions.handlers.adapters.dynamodb import MerchantTable, to_item
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.errors import DependencyError
from card_transactions.handlers.domain.merchant_directory import MerchantDirectory

TABLE = "merchant-config-test"


def _item(merchant_id: str) -> dict[str, Any]:
    return to_item({"merchant_id": merchant_id, "name": "Acme", "active": True, "max_transaction_amount": 10})


class BatchClient:
    """A DynamoDB client stub: answers BatchGetItem from ``pages`` (one per call)."""

    def __init__(self, *pages: tuple[list[str], list[str]]) -> None:
        self.pages = list(pages)  # (found ids, unprocessed ids)
        self.requests: list[list[str]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append([k["merchant_id"]["S"] for k in RequestItems[TABLE]["Keys"]])
        found, unprocessed = self.pages.pop(0)
        response: dict[str, Any] = {"Responses": {TABLE: [_item(m) for m in found]}}
        if unprocessed:
            response["UnprocessedKeys"] = {TABLE: {"Keys": [{"merchant_id": {"S": m}} for m in unprocessed]}}
        return response


def test_unprocessed_keys_are_asked_again():
    client = BatchClient((["a"], ["b"]), (["b"], []))
    assert set(MerchantTable(client, TABLE).get_many(["a", "b", "c"])) == {"a", "b"}
    assert client.requests == [["a", "b", "c"], ["b"]]


def test_keys_left_unprocessed_after_every_attempt_are_a_dependency_error():
    client = BatchClient(([], ["a"]), ([], ["a"]), ([], ["a"]))
    with pytest.raises(DependencyError, match="UnprocessedKeys"):
        MerchantTable(client, TABLE).get_many(["a"])


def test_more_than_100_keys_go_in_several_requests():
    ids = [f"m{i}" for i in range(150)]
    client = BatchClient((ids[:100], []), (ids[100:], []))
    assert len(MerchantTable(client, TABLE).get_many(ids)) == 150
    assert [len(r) for r in client.requests] == [100, 50]


class Source:
    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.calls: list[tuple[str, Any]] = []

    def get(self, merchant_id: str) -> dict[str, Any] | None:
        self.calls.append(("get", merchant_id))
        return self.items.get(merchant_id)

    def get_many(self, merchant_ids: list[str]) -> dict[str, dict[str, Any]]:
        self.calls.append(("get_many", merchant_ids))
        return {m: self.items[m] for m in merchant_ids if m in self.items}


ACME = {"merchant_id": "a", "name": "Acme", "active": True, "max_transaction_amount": 10}


def test_prefetch_reads_the_missing_merchants_once_and_caches_misses():
    source = Source({"a": ACME})
    directory = MerchantDirectory(source, TTLCache(60, clock=lambda: 0.0))
    directory.prefetch(["a", "a", "nobody"])
    directory.prefetch(["a", "nobody"])
    merchant = directory.get("a")
    assert merchant is not None and merchant.name == "Acme"
    assert directory.get("nobody") is None
    assert source.calls == [("get_many", ["a", "nobody"])]


def test_without_a_cache_prefetch_does_nothing_and_each_get_reads():
    source = Source({"a": ACME})
    directory = MerchantDirectory(source, TTLCache(0))
    directory.prefetch(["a"])
    assert directory.get("a") is not None
    assert source.calls == [("get", "a")]


def test_a_malformed_merchant_reads_as_inactive_without_name_or_limit():
    source = Source({"a": {"merchant_id": "a", "active": True}})
    merchant = MerchantDirectory(source, TTLCache(60)).get("a")
    assert merchant is not None
    assert (merchant.active, merchant.name, merchant.max_transaction_amount) == (False, "", 0)
