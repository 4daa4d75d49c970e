"""Two API clients bound to their own merchants, over HTTP through the local runtime (like on AWS:
each client has its own key and usage plan, merchants name their clients in the merchant-config item)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.driver import Runtime, start_runtime, stop_runtime, transaction

KEYS = {"acme": "acme-local-key-0123456789", "globex": "globex-local-key-0123456789"}


@pytest.fixture(scope="module")
def two_clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-clients"),
        API_CLIENTS="acme,globex:50:100:1000",
        LOCAL_API_CLIENTS=",".join(f"{name}={key}" for name, key in KEYS.items()),
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


def test_the_ready_file_gives_each_clients_key_and_key_id(two_clients: Runtime) -> None:
    clients = two_clients.info["api_clients"]
    assert {name: client["api_key"] for name, client in clients.items()} == KEYS
    # the ids API Gateway (moto) gave the keys the runtime created like `python -m tools.clients add`
    ids = [client["api_key_id"] for client in clients.values()]
    assert all(isinstance(i, str) and i for i in ids) and len(set(ids)) == 2


def test_two_clients_cannot_submit_for_or_read_each_others_merchants(two_clients: Runtime) -> None:
    acme, globex = KEYS["acme"], KEYS["globex"]
    merchants = {
        "acme": two_clients.put_merchant("Acme Stores", clients=("acme",)),
        "globex": two_clients.put_merchant("Globex Travel", clients=("globex",)),
    }
    own = {name: transaction(merchant_id) for name, merchant_id in merchants.items()}
    assert two_clients.post(own["acme"], key=acme).status == 202
    assert two_clients.post(own["globex"], key=globex).status == 202
    # cross submissions, both ways: 403 in the one error shape
    for key, other in ((acme, "globex"), (globex, "acme")):
        response = two_clients.post(transaction(merchants[other]), key=key)
        assert response.status == 403
        assert response.body["error"]["code"] == "MERCHANT_ACCESS_DENIED"
        assert response.body["error"]["request_id"] == response.headers["x-amzn-requestid"]
    # cross reads, both ways: 404 like an unknown id; own reads: 200
    for key, mine, theirs in ((acme, "acme", "globex"), (globex, "globex", "acme")):
        assert two_clients.get(own[mine]["transaction_id"], key=key).status == 200
        response = two_clients.get(own[theirs]["transaction_id"], key=key)
        assert (response.status, response.body["error"]["code"]) == (404, "TRANSACTION_NOT_FOUND")


def test_a_merchant_naming_no_client_takes_any_clients_key(two_clients: Runtime) -> None:
    merchant_id = two_clients.put_merchant("Open Shop")
    for key in KEYS.values():
        assert two_clients.post(transaction(merchant_id), key=key).status == 202


def test_each_client_has_its_own_usage_plan(two_clients: Runtime) -> None:
    assert "usage plan  globex: 50 req/s, burst 100, quota 1000/day" in two_clients.log()
    assert "usage plan  acme: 500 req/s, burst 1000, quota 10000/day" in two_clients.log()
