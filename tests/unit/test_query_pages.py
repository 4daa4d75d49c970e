"""Query pagination of the DynamoDB adapter: each page asks for what is still missing, then it stops."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from card_transactions.handlers.adapters.dynamodb import query_pages
from card_transactions.handlers.domain.errors import DependencyError


class PagedClient:
    """Answers Query with pages of ``page_size`` items out of ``total``; records each request."""

    def __init__(self, total: int, page_size: int) -> None:
        self.total, self.page_size = total, page_size
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = int(request.get("ExclusiveStartKey", {"n": 0})["n"])
        end = min(start + self.page_size, start + request["Limit"], self.total)
        page: dict[str, Any] = {"Items": [{"n": i} for i in range(start, end)]}
        if end < self.total:
            page["LastEvaluatedKey"] = {"n": end}
        return page


def items(page: dict[str, Any]) -> int:
    return len(page["Items"])


def test_pages_follow_the_start_key_and_ask_only_for_what_is_missing():
    client = PagedClient(total=100, page_size=4)
    pages = list(query_pages(client, "Query", {"TableName": "t"}, 10, items))
    assert [items(p) for p in pages] == [4, 4, 2]
    assert [(r["Limit"], r.get("ExclusiveStartKey")) for r in client.requests] == [
        (10, None),
        (6, {"n": 4}),
        (2, {"n": 8}),
    ]


def test_the_last_page_ends_it_and_nothing_wanted_asks_nothing():
    client = PagedClient(total=5, page_size=4)
    assert sum(map(items, query_pages(client, "Query", {}, 50, items))) == 5
    assert len(client.requests) == 2
    assert list(query_pages(client, "Query", {}, 0, items)) == []


def test_a_failed_query_is_a_dependency_error_naming_it():
    class Failing:
        def query(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "Query")

    with pytest.raises(DependencyError, match="transaction Query"):
        list(query_pages(Failing(), "transaction Query(by-merchant)", {}, 1, items))
