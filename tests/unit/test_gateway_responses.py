"""API Gateway's own errors: one table (handlers/gateway_responses.py), rendered like API Gateway does."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from card_transactions.handlers import http
from card_transactions.handlers.gateway_responses import (
    GATEWAY_MESSAGE,
    GATEWAY_RESPONSE,
    GATEWAY_RESPONSES,
    REQUEST_ID,
)

# The response types the API must answer in its own shape (handlers/gateway_responses.py module doc).
REQUIRED = {
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "INVALID_API_KEY": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "ACCESS_DENIED": 403,
    "WAF_FILTERED": 403,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
}


def render(template: str, request_id: str, message: str) -> object:
    """What API Gateway makes of a template: its variables substituted (the message is a JSON string)."""
    return json.loads(template.replace(REQUEST_ID, request_id).replace(GATEWAY_MESSAGE, json.dumps(message)))


def test_every_required_response_type_keeps_api_gateways_status():
    declared = {r.response_type: r.status for r in GATEWAY_RESPONSES}
    assert {t: declared.get(t) for t in REQUIRED} == REQUIRED
    assert len(declared) == len(GATEWAY_RESPONSES), "one row per response type"


@pytest.mark.parametrize("response", GATEWAY_RESPONSES, ids=lambda r: r.response_type)
def test_the_template_renders_the_body_the_local_runtime_answers(response):
    rendered = render(response.template(), "req-42", 'Quote " and \\ kept')
    assert rendered == response.body("req-42", 'Quote " and \\ kept')
    assert rendered == {
        "error": {
            "code": response.code,
            "message": response.message or 'Quote " and \\ kept',
            "details": [],
            "request_id": "req-42",
        }
    }


@pytest.mark.parametrize("response", GATEWAY_RESPONSES, ids=lambda r: r.response_type)
def test_headers_are_the_apis_and_static(response):
    parameters = response.header_parameters()
    assert parameters["gatewayresponse.header.Cache-Control"] == "'no-store'"
    assert parameters["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
    assert "gatewayresponse.header.Content-Type" not in parameters  # set by the template's media type
    assert all(v.startswith("'") and v.endswith("'") and "'" not in v[1:-1] for v in parameters.values())
    if response.status in (HTTPStatus.TOO_MANY_REQUESTS,) and response.response_type == "THROTTLED":
        assert parameters["gatewayresponse.header.Retry-After"] == "'1'"


def test_every_answer_a_client_should_retry_says_when():
    retried = {r.response_type for r in GATEWAY_RESPONSES if "Retry-After" in r.headers}
    assert retried == {"THROTTLED", "INTEGRATION_TIMEOUT", "INTEGRATION_FAILURE", "DEFAULT_5XX"}
    # a throttled Lambda function (INTEGRATION_FAILURE) is a 503, the function's own "retry" code
    throttled = GATEWAY_RESPONSE["INTEGRATION_FAILURE"]
    assert (throttled.status, throttled.code) == (HTTPStatus.SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")


def test_codes_shared_with_the_function_mean_the_same():
    # a client branches on one code whoever answered: the same codes have the same status, except that
    # a gateway timeout (504) and the function's dependency failure (503) both mean "retry"
    for response in GATEWAY_RESPONSES:
        if response.code in http.ERROR_STATUS and response.status is not None:
            expected = {HTTPStatus.GATEWAY_TIMEOUT} if response.code == "SERVICE_UNAVAILABLE" else set()
            assert response.status in {http.ERROR_STATUS[response.code], *expected}
