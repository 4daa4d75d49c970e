"""Clients bound to merchants: the calling API key's client (requestContext.identity.apiKeyId) may only
submit for, and read transactions of, the merchants that name it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from card_transactions.handlers import validation
from tests.events import api_get, api_post, transaction_body
from tests.handlers.conftest import API_KEY_TABLE

KEYS = {"acme": "acmekey001", "globex": "globexkey2"}


def as_client(event: dict[str, Any], client: str | None) -> dict[str, Any]:
    event["requestContext"]["identity"]["apiKeyId"] = KEYS[client] if client else "unknownkey"
    return event


def post(aws, client: str | None, merchant_id: str, transaction_id: str) -> tuple[int, dict[str, Any]]:
    body = transaction_body(transaction_id=transaction_id, merchant_id=merchant_id)
    response = validation.handler(as_client(api_post(body), client), aws.context)
    return response["statusCode"], json.loads(response["body"])


def get(aws, client: str | None, transaction_id: str) -> tuple[int, dict[str, Any]]:
    response = validation.handler(as_client(api_get(transaction_id), client), aws.context)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def bound(aws, monkeypatch: pytest.MonkeyPatch):
    """GIVEN clients acme and globex, merchant m_acme bound to acme, m_globex to globex, m_open to none."""
    for name, key_id in KEYS.items():  # as python -m tools.clients records them
        item = {"key_id": {"S": key_id}, "client": {"S": name}, "state": {"S": "active"}}
        aws.dynamodb.put_item(TableName=API_KEY_TABLE, Item=item)
    validation.reset()
    aws.put_merchant("m_acme", name="Acme Stores", clients={"acme"})
    aws.put_merchant("m_globex", name="Globex Travel", clients={"globex"})
    aws.put_merchant("m_open", name="Open Shop")
    return aws


def test_a_client_submits_and_reads_only_for_its_own_merchants(bound):
    assert post(bound, "acme", "m_acme", "t_acme")[0] == 202
    assert post(bound, "globex", "m_globex", "t_globex")[0] == 202
    # cross submissions are refused with 403 in the common shape, and nothing is written or queued
    status, body = post(bound, "acme", "m_globex", "t_cross")
    assert status == 403
    assert body["error"]["code"] == "MERCHANT_ACCESS_DENIED"
    assert body["error"]["details"] == [
        {"field": "merchant_id", "message": "not a merchant of the calling API client"}
    ]
    assert post(bound, "globex", "m_acme", "t_cross2")[0] == 403
    assert {r["transaction_id"] for r in bound.records()} == {"t_acme", "t_globex"}
    assert len(bound.queued()) == 2
    # reads: your own transactions only; another client's are 404, exactly like an unknown id
    assert get(bound, "acme", "t_acme")[0] == 200
    status, body = get(bound, "acme", "t_globex")
    assert (status, body["error"]["code"]) == (404, "TRANSACTION_NOT_FOUND")
    assert get(bound, "globex", "t_acme")[0] == 404
    assert get(bound, "globex", "t_globex")[0] == 200


def test_a_key_of_no_known_client_is_refused_for_bound_merchants(bound):
    assert post(bound, None, "m_acme", "t_stranger")[0] == 403


def test_a_merchant_naming_no_client_admits_every_valid_key(bound):
    for client, transaction_id in (("acme", "t_open_a"), ("globex", "t_open_g"), (None, "t_open_n")):
        assert post(bound, client, "m_open", transaction_id)[0] == 202
    assert get(bound, "globex", "t_open_a")[0] == 200


def test_required_binding_refuses_merchants_naming_no_client(bound, monkeypatch: pytest.MonkeyPatch):
    assert post(bound, "acme", "m_open", "t_before")[0] == 202
    monkeypatch.setenv("REQUIRE_MERCHANT_CLIENTS", "true")
    validation.reset()
    status, body = post(bound, "acme", "m_open", "t_after")
    assert (status, body["error"]["code"]) == (403, "MERCHANT_ACCESS_DENIED")
    assert get(bound, "acme", "t_before")[0] == 404
    assert post(bound, "acme", "m_acme", "t_bound")[0] == 202


def test_a_malformed_clients_attribute_fails_closed(bound):
    bound.put_merchant("m_bad", name="Bad Config", clients=["acme", 7])
    status, body = post(bound, "acme", "m_bad", "t_bad")
    assert (status, body["error"]["code"]) == (422, "MERCHANT_INACTIVE")


def test_the_binding_check_reads_the_merchant_through_the_cache(bound, monkeypatch: pytest.MonkeyPatch):
    # GIVEN a warm merchant cache, WHEN the same client posts and reads again,
    # THEN no further merchant read happens (the AWS-requests budget per transaction holds)
    assert post(bound, "acme", "m_acme", "t_warm")[0] == 202
    reads: list[str] = []
    table = validation.container.current.service._merchants._source  # behind the cache
    original = table.get

    def counted(merchant_id: str) -> Any:
        reads.append(merchant_id)
        return original(merchant_id)

    monkeypatch.setattr(table, "get", counted)
    assert post(bound, "acme", "m_acme", "t_warm2")[0] == 202
    assert get(bound, "acme", "t_warm2")[0] == 200
    assert get(bound, "globex", "t_warm2")[0] == 404
    assert reads == []


def test_the_calling_keys_client_is_read_once_per_container_and_a_revoked_key_is_nobodys(
    bound, monkeypatch: pytest.MonkeyPatch
):
    reads: list[str] = []
    source = validation.container.current.service._keys._source  # type: ignore[union-attr]
    original = source.get

    def counted(key_id: str) -> Any:
        reads.append(key_id)
        return original(key_id)

    monkeypatch.setattr(source, "get", counted)
    assert post(bound, "acme", "m_acme", "t_key1")[0] == 202
    assert post(bound, "acme", "m_acme", "t_key2")[0] == 202
    assert reads == [KEYS["acme"]]
    # a key recorded as revoked belongs to no client (API Gateway has refused it since revoke anyway)
    item = {"key_id": {"S": "revokedkey"}, "client": {"S": "acme"}, "state": {"S": "revoked"}}
    bound.dynamodb.put_item(TableName=API_KEY_TABLE, Item=item)
    event = api_post(transaction_body(transaction_id="t_revoked", merchant_id="m_acme"))
    event["requestContext"]["identity"]["apiKeyId"] = "revokedkey"
    assert validation.handler(event, bound.context)["statusCode"] == 403


def test_an_unreadable_key_table_is_a_503_to_retry(bound):
    bound.dynamodb.delete_table(TableName=API_KEY_TABLE)
    status, body = post(bound, "acme", "m_acme", "t_no_keys")
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert bound.records() == []
