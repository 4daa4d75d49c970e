"""The HTTP edge of the validation function: every status code, body and header it answers with.

The domain raises errors with a code (``handlers.domain.errors.ErrorCode``); ``ERROR_STATUS`` is the one
table from code to HTTP status. A new code gets its row here, or importing this module fails. Every
answer is a REST API (v1) proxy response in JSON with ``Cache-Control: no-store``; an error body is
``{"error": {"code", "message", "details", "request_id"}}`` (``request_id``: API Gateway's request id,
the ``x-amzn-RequestId`` header, so a client quotes one id to support); a 503 says when to retry; a 405
says what is allowed. API Gateway's own errors have the same shape (``handlers/gateway_responses.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from card_transactions.handlers.domain.errors import ErrorCode, RequestRefused

# Codes of the edge itself, next to the domain's.
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
INTERNAL_ERROR = "INTERNAL_ERROR"

ERROR_STATUS: Mapping[str, HTTPStatus] = {
    ErrorCode.INVALID_JSON: HTTPStatus.BAD_REQUEST,
    ErrorCode.VALIDATION_FAILED: HTTPStatus.BAD_REQUEST,
    ErrorCode.CARD_NUMBER_NOT_ALLOWED: HTTPStatus.BAD_REQUEST,
    ErrorCode.PAYLOAD_TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    ErrorCode.MERCHANT_NOT_FOUND: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.MERCHANT_INACTIVE: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.AMOUNT_EXCEEDS_MERCHANT_LIMIT: HTTPStatus.UNPROCESSABLE_ENTITY,
    ErrorCode.IDEMPOTENCY_CONFLICT: HTTPStatus.CONFLICT,
    ErrorCode.TRANSACTION_NOT_FOUND: HTTPStatus.NOT_FOUND,
    ErrorCode.SERVICE_UNAVAILABLE: HTTPStatus.SERVICE_UNAVAILABLE,
    ErrorCode.MERCHANT_ACCESS_DENIED: HTTPStatus.FORBIDDEN,
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
HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


class Refused(Exception):
    """A request the edge itself refuses: no such route, or a method the route does not take."""

    def __init__(self, code: str, message: str, allow: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.allow = tuple(allow)


def to_json(body: Any) -> str:
    """Compact JSON; Decimals as strings (exact), sets as sorted lists."""
    return json.dumps(body, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def respond(status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A REST API (v1) proxy response."""
    return {
        "statusCode": int(status),
        "headers": {**HEADERS, **(headers or {})},
        "body": to_json(body),
        "isBase64Encoded": False,
    }


def ok(body: Any) -> dict[str, Any]:
    return respond(HTTPStatus.OK, body)


def accepted(transaction_id: str) -> dict[str, Any]:
    """202: the transaction is recorded and queued for the fraud check."""
    body = {"message": ACCEPTED_MESSAGE, "transaction_id": transaction_id, "status": ACCEPTED_STATUS}
    return respond(HTTPStatus.ACCEPTED, body)


def error_body(
    code: str, message: str, details: Sequence[Mapping[str, str]] = (), *, request_id: str | None
) -> dict[str, Any]:
    """The body of every error of the API, the function's and API Gateway's."""
    return {"error": {"code": code, "message": message, "details": list(details), "request_id": request_id}}


def error(
    code: str,
    message: str,
    details: Sequence[Mapping[str, str]] = (),
    allow: Sequence[str] = (),
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    status = ERROR_STATUS[code]
    headers: dict[str, str] = {}
    if allow:
        headers["Allow"] = ", ".join(allow)
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return respond(status, error_body(code, message, details, request_id=request_id), headers)


def refusal(exc: RequestRefused | Refused, request_id: str | None = None) -> dict[str, Any]:
    """The answer to a refusal of the domain or of the edge."""
    if isinstance(exc, Refused):
        return error(exc.code, exc.message, allow=exc.allow, request_id=request_id)
    return error(exc.code, exc.message, exc.details, request_id=request_id)


def request_id_of(event: Any) -> str | None:
    """API Gateway's request id (``requestContext.requestId``, the ``x-amzn-RequestId`` header)."""
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return request_id if isinstance(request_id, str) else None
