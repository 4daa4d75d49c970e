"""The validation function's HTTP edge: one table from error code to status, and the answers' shape."""

from __future__ import annotations

import json
from http import HTTPStatus

from card_transactions.handlers import http
from card_transactions.handlers.domain.errors import (
    ErrorCode,
    RequestRefused,
    ServiceUnavailable,
    ValidationFailed,
)


def test_every_domain_error_code_has_one_http_status():
    assert set(ErrorCode) <= set(http.ERROR_STATUS)
    assert all(400 <= status < 600 for status in http.ERROR_STATUS.values())
    assert all(isinstance(cls.code, ErrorCode) for cls in RequestRefused.__subclasses__())


def test_an_error_answer_names_code_message_details_and_request_id():
    refused = ValidationFailed("bad", [{"field": "amount", "message": "must be > 0"}])
    response = http.refusal(refused, "req-1")
    assert response["statusCode"] == HTTPStatus.BAD_REQUEST
    assert json.loads(response["body"]) == {
        "error": {
            "code": "VALIDATION_FAILED",
            "message": "bad",
            "details": [{"field": "amount", "message": "must be > 0"}],
            "request_id": "req-1",
        }
    }
    assert response["headers"] == {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def test_retry_after_on_503_and_allow_on_405():
    unavailable = http.refusal(ServiceUnavailable("retry"))
    assert (unavailable["statusCode"], unavailable["headers"]["Retry-After"]) == (503, "1")
    refused = http.refusal(http.Refused(http.METHOD_NOT_ALLOWED, "no", allow=("GET",)))
    assert (refused["statusCode"], refused["headers"]["Allow"]) == (405, "GET")
    assert "Retry-After" not in refused["headers"]


def test_accepted_answer_is_202_with_the_queued_body():
    response = http.accepted("txn_1")
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {
        "message": "Transaction validated and queued",
        "transaction_id": "txn_1",
        "status": "pending_fraud_check",
    }


def test_the_request_id_is_api_gateways_from_the_proxy_event():
    assert http.request_id_of({"requestContext": {"requestId": "c6af9ac6-7b61"}}) == "c6af9ac6-7b61"
    assert http.request_id_of({"requestContext": {}}) is None
    assert http.request_id_of("not an event") is None
