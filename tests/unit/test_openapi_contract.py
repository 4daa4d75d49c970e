"""docs/openapi.json declares every answer of every operation: status, error codes and an example."""

from __future__ import annotations

import json
from pathlib import Path

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSES
from card_transactions.handlers.http import ERROR_STATUS, METHOD_NOT_ALLOWED, NOT_FOUND

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
OPERATIONS = {op["operationId"]: op for ops in DOCUMENT["paths"].values() for op in ops.values()}


def _codes(response: dict) -> list[str]:
    return response["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]["properties"][
        "code"
    ]["enum"]


def test_every_error_response_names_its_codes_and_has_an_example_of_one():
    for operation in OPERATIONS.values():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            example = response["content"]["application/json"]["example"]
            assert example["error"]["code"] in _codes(response), (operation["operationId"], status)
            assert set(example["error"]) == {"code", "message", "details", "request_id"}
            assert "x-amzn-RequestId" in response["headers"]


def test_every_code_the_api_answers_is_declared_with_its_status():
    declared = {
        (int(status), code)
        for operation in OPERATIONS.values()
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for code in _codes(response)
    }
    # the function's codes (404/405 of routes API Gateway never forwards aside), with their status
    function = {(int(s), c) for c, s in ERROR_STATUS.items() if c not in (NOT_FOUND, METHOD_NOT_ALLOWED)}
    assert function <= declared
    # API Gateway's per-operation errors, with the status API Gateway uses (DEFAULT_5XX: a 502)
    route_level = {"MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND", "ACCESS_DENIED", "DEFAULT_4XX"}
    gateway = {
        (int(r.status) if r.status else 502, r.code)
        for r in GATEWAY_RESPONSES
        if r.response_type not in route_level
    }
    assert gateway <= declared


def test_post_links_its_answer_to_the_get_of_the_same_transaction():
    link = OPERATIONS["submitTransaction"]["responses"]["202"]["links"]["GetTransaction"]
    assert link == {
        "operationId": "getTransaction",
        "parameters": {"transaction_id": "$response.body#/transaction_id"},
        "description": "The transaction's status, by the id the answer returns",
    }
