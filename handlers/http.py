"""The HTTP edge of the validation function: every status code, body and header it answers with.

The domain raises errors with a code (``handlers.domain.errors.ErrorCode``); ``ERROR_STATUS`` is the one
table from code to HTTP status. A new code gets its row here, or importing this module fails. Every
answer is JSON with ``Cache-Control: no-store``; an error body is
``{"error": {"code", "message", "details"}}``; a 503 says when to retry; a 405 says what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from handlers.domain.errors import ErrorCode, RequestRefused

# Codes of the edge itself, next to the domain's.
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
INTERNAL_ERROR = "INTERNAL_ERROR"

ERROR_STATUS: Mapping[str, HTTPStatus] = {
    ErrorCode.INVALID_JSON: HTTPStatus.BAD_REQUEST,
    ErrorCode.VALIDATION_FAILED: HTTPStatus.BAD_REQUEST,
    ErrorCode.PAYLOAD_TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.MERCHANT_NOT_FOUND: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.MERCHANT_INACTIVE: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.AMOUNT_EXCEEDS_MERCHANT_LIMIT: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.IDEMPOTENCY_CONFLICT: HTTPStatus.CONFLICT,
    ErrorCode.TRANSACTION_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorCode.SERVICE_UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    NOT_FOUND: HTTPStatus.NOT_FOUND,
    METHOD_NOT_ALLOWED: HTTPStatus.METHOD_NOT_ALLOWED,
    INTERNAL_ERROR: HTTPStatus.INTERNAL_SERVER_ERROR,
}
_unmapped = set(ErrorCode) - set(ERROR_STATUS)
if _unmapped:
    raise RuntimeError(f"error codes without an HTTP status in ERROR_STATUS: {sorted(_unmapped)}")

RETRY_AFTER_SECONDS = 1
ACCEPTED_MESSAGE = "Transaction validated and queued"
ACCEPTED_STATUS = "pending_fraud_check"
CONTENT_TYPE = "application/json"
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def to_json(body: Any) -> str:
    """Compact JSON; Decimals as strings (exact), sets as sorted lists."""
    return json.dumps(body, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def ok(body: Any) -> Response[str]:
    return Response(HTTPStatus.OK, CONTENT_TYPE, to_json(body), dict(HEADERS))


def accepted(transaction_id: str) -> Response[str]:
    """202: the transaction is recorded and queued for the fraud check."""
    body = {"message": ACCEPTED_MESSAGE, "transaction_id": transaction_id, "status": ACCEPTED_STATUS}
    return Response(HTTPStatus.ACCEPTED, CONTENT_TYPE, to_json(body), dict(HEADERS))


def error(
    code: str, message: str, details: Sequence[Mapping[str, str]] = (), allow: Sequence[str] = ()
) -> Response[str]:
    status = ERROR_STATUS[code]
    headers = dict(HEADERS)
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if allow:
        headers["Allow"] = ", ".join(allow)
    body = {"error": {"code": code, "message": message, "details": list(details)}}
    return Response(status, CONTENT_TYPE, to_json(body), headers)


def refused(exc: RequestRefused) -> Response[str]:
    return error(exc.code, exc.message, exc.details)


def proxy_response(response: Response[str]) -> dict[str, Any]:
    """The REST API (v1) proxy response of ``response`` (for answers made without the resolver)."""
    return {
        "statusCode": int(response.status_code),
        "headers": {name: _last(value) for name, value in response.headers.items()},
        "body": response.body,
        "isBase64Encoded": False,
    }


def single_value_headers(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """The resolver's REST response with ``headers`` instead of ``multiValueHeaders``: every header of
    this API has one value, and every answer of the function has one shape."""
    response = {k: v for k, v in resolved.items() if k != "multiValueHeaders"}
    response["headers"] = {name: _last(values) for name, values in resolved["multiValueHeaders"].items()}
    return response


def _last(value: str | list[str]) -> str:
    return value[-1] if isinstance(value, list) else value
