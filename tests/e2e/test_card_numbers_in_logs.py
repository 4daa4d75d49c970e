"""A card number sent anywhere in a request (any body field or field name, the path, the query, a
header, a body that is not even JSON) never appears in any log of the local runtime, with every function
logging at DEBUG and the API's access log on; in a body or the path it is refused (400). Headers and the
query string are read by nothing and logged by nothing: requests carrying one there are not refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bench.card_corpus import WRITINGS, luhn_complete
from local.driver import Runtime, start_runtime, stop_runtime, transaction

# One distinct PAN per request, so a leak names the request that caused it.
_NETWORK_PREFIXES = ("4", "51", "2221", "34", "6011", "3528", "36", "62", "6759", "2200")
_WRITINGS = (
    "plain",
    "dashes",
    "mixed dash and space",
    "zero-width space between groups",
    "full-width digits",
)
_UNREAD = ("query", "header")  # places no function reads
_SEPARATORS_BETWEEN_DIGITS = re.compile(r"(?<=[0-9])(?:[\W_]|\u200b)+(?=[0-9])")


def _pans() -> Iterator[str]:
    for serial in range(1000):
        for prefix in _NETWORK_PREFIXES:
            length = 15 if prefix == "34" else 14 if prefix == "36" else 16
            yield luhn_complete((prefix + f"{serial:015d}")[: length - 1])


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-card-logs"), LOCAL_LOG_LEVEL="DEBUG", LOCAL_ACCESS_LOG="true"
    )
    yield started
    stop_runtime(started)


def _requests(runtime: Runtime, merchant: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(PAN, where, request) for every place a client can put text, in several writings."""
    pans = _pans()
    for writing in _WRITINGS:
        write = WRITINGS[writing]
        places: dict[str, Any] = {
            "transaction_id": lambda text: {"body": {**transaction(merchant), "transaction_id": text}},
            "merchant_id": lambda text: {"body": {**transaction(merchant), "merchant_id": text}},
            "currency": lambda text: {"body": {**transaction(merchant), "currency": text}},
            "metadata value": lambda text: {"body": {**transaction(merchant), "metadata": {"note": text}}},
            "metadata key": lambda text: {"body": {**transaction(merchant), "metadata": {text: "x"}}},
            "unknown field": lambda text: {"body": {**transaction(merchant), "card": text}},
            "invalid JSON": lambda text: {"body": '{"transaction_id": "' + text + '", '},
            "GET path": lambda text: {"method": "GET", "path": f"/transaction/{text}"},
            "query": lambda text: {"method": "GET", "path": f"/transaction/txn_1?pan={text}"},
            "header": lambda text: {"body": transaction(merchant), "headers": {"X-Card": text}},
        }
        for where, build in places.items():
            pan = next(pans)
            yield pan, f"{where} ({writing})", build(write(pan))
    pan = next(pans)
    yield (
        pan,
        "amount (JSON number)",
        {
            "body": json.dumps({**transaction(merchant), "amount": 0}).replace(
                '"amount": 0', f'"amount": {pan}'
            )
        },
    )


def _send(runtime: Runtime, request: dict[str, Any]) -> int:
    method = request.get("method", "POST")
    path = request.get("path", "/transaction")
    path = quote(path, safe="/?=")  # as a client sends it: the gateway decodes the path parameter
    body = request.get("body")
    body = body.encode() if isinstance(body, str) else body
    # header values are Latin-1 on the wire: anything else goes percent-encoded
    headers = {k: quote(v, safe=" -") for k, v in request.get("headers", {}).items()}
    return runtime.request(method, path, body, headers=headers).status


def test_a_card_number_anywhere_in_a_request_never_reaches_a_log(chatty: Runtime) -> None:
    merchant = chatty.put_merchant("Acme Stores", limit="100000")
    sent = []
    for pan, where, request in _requests(chatty, merchant):
        status = _send(chatty, request)
        if not where.startswith(_UNREAD):
            assert status == 400, (where, status)
        sent.append((pan, where))
    ok = chatty.post(transaction(merchant))
    assert ok.status == 202
    chatty.wait_final(ok.body["transaction_id"])  # the pipeline ran and logged meanwhile
    log = chatty.log()
    assert "[api] POST /transaction -> 202 (" in log and '"message":"request rejected"' in log  # logs on
    collapsed = _SEPARATORS_BETWEEN_DIGITS.sub("", log)
    leaked = [where for pan, where in sent if pan in collapsed]
    assert not leaked, leaked
