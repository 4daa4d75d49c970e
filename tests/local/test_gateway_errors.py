"""The local gateway's own answers: every refusal in the API's error shape, from the stack's table."""

from __future__ import annotations

import json

import pytest

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSE
from local.gateway import Gateway, GatewayError


def answer(error: GatewayError) -> tuple[int, dict[str, str], dict]:
    status, headers, body = error.answer("req-7")
    return status, dict(headers), json.loads(body)


@pytest.mark.parametrize(
    ("response_type", "error_type", "status", "code"),
    [
        ("INVALID_API_KEY", "ForbiddenException", 403, "INVALID_API_KEY"),
        ("MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException", 403, "ROUTE_NOT_FOUND"),
        ("THROTTLED", "TooManyRequestsException", 429, "THROTTLED"),
        ("QUOTA_EXCEEDED", "TooManyRequestsException", 429, "QUOTA_EXCEEDED"),
        ("BAD_REQUEST_BODY", "BadRequestException", 400, "VALIDATION_FAILED"),
        ("REQUEST_TOO_LARGE", "RequestTooLongException", 413, "PAYLOAD_TOO_LARGE"),
        ("INTEGRATION_FAILURE", "InternalServerErrorException", 503, "SERVICE_UNAVAILABLE"),
    ],
)
def test_each_refusal_has_the_status_code_and_headers_of_the_table(response_type, error_type, status, code):
    got_status, headers, body = answer(GatewayError(response_type, error_type))
    declared = GATEWAY_RESPONSE[response_type]
    assert got_status == status == declared.status
    assert body == {
        "error": {"code": code, "message": declared.message, "details": [], "request_id": "req-7"}
    }
    assert headers["x-amzn-RequestId"] == "req-7" and headers["x-amzn-ErrorType"] == error_type
    assert {k: headers[k] for k in declared.all_headers} == declared.all_headers


def test_a_failed_function_is_a_502_in_the_same_shape():
    with pytest.raises(GatewayError) as caught:
        Gateway._proxy_response({"statusCode": "not a number"}, "req-7")
    status, _, body = answer(caught.value)
    assert status == 502
    assert body["error"]["code"] == "INTERNAL_ERROR" and body["error"]["request_id"] == "req-7"


def test_the_defaults_keep_api_gateways_status_and_message():
    status, _, body = answer(GatewayError("DEFAULT_4XX", "BadRequestException", 411, "Length Required"))
    assert (status, body["error"]["code"], body["error"]["message"]) == (
        411,
        "CLIENT_ERROR",
        "Length Required",
    )
    with pytest.raises(ValueError, match="needs the status"):
        GatewayError("DEFAULT_4XX", "BadRequestException")
