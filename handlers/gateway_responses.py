"""The errors API Gateway answers by itself, declared once in the API's error shape.

``GATEWAY_RESPONSES`` is the one table of every error API Gateway generates before (or instead of) the
function: the stack turns each row into an ``aws_api_gateway_gateway_response`` (status code, JSON
body template, headers), the local runtime answers its own refusals from the same rows, and the OpenAPI
document lists them. So a client receives ``{"error": {"code", "message", "details", "request_id"}}``
from the function and from the gateway alike, with ``request_id`` equal to the ``x-amzn-RequestId``
header (``$context.requestId``), and branches on ``code``.

Status codes stay the ones API Gateway uses for each response type (a ``None`` status keeps the status of
the error that fell back to ``DEFAULT_4XX`` / ``DEFAULT_5XX``), but one: when Lambda throttles the
function (its 429 ``TooManyRequestsException``, the reserved concurrency in use), a REST API's Lambda proxy
integration answers ``INTEGRATION_FAILURE`` (504 by default; no integration response can map a Lambda
429, and API Gateway answered a plain 500 before that response type took it). This API answers it 503
``SERVICE_UNAVAILABLE`` with ``Retry-After``, and every other 5xx (``DEFAULT_5XX``) carries
``Retry-After`` too: a client retries any of them with the same payload (the transaction id makes the
retry safe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from card_transactions.handlers.http import HEADERS, INTERNAL_ERROR, error_body, to_json

REQUEST_ID = "$context.requestId"  # API Gateway's request id, the x-amzn-RequestId header's value
GATEWAY_MESSAGE = "$context.error.messageString"  # API Gateway's own message, already a quoted JSON string
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class GatewayResponse:
    """How one API Gateway response type answers: status, stable error code, message and headers."""

    response_type: str
    status: HTTPStatus | None  # None: the status of the error that fell back to this default
    code: str
    message: str | None  # None: API Gateway's own message for the error
    description: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def all_headers(self) -> dict[str, str]:
        """Every header of the answer (the JSON headers of every error of the API, then this one's)."""
        return {**HEADERS, **self.headers}

    def template(self) -> str:
        """The ``application/json`` mapping template: the error body with API Gateway's variables."""
        message = to_json(self.message) if self.message is not None else GATEWAY_MESSAGE
        request_id = to_json(REQUEST_ID)
        return (
            '{"error":{"code":' + to_json(self.code) + ',"message":' + message + ',"details":[],'
            '"request_id":' + request_id + "}}"
        )

    def body(self, request_id: str, gateway_message: str) -> dict[str, object]:
        """The body this response has for one request (what the template renders to)."""
        message = self.message if self.message is not None else gateway_message
        return error_body(self.code, message, request_id=request_id)

    def header_parameters(self) -> dict[str, str]:
        """``response_parameters`` of the gateway response: static header values in single quotes."""
        names = {name: value for name, value in self.all_headers.items() if name != "Content-Type"}
        return {f"gatewayresponse.header.{name}": f"'{value}'" for name, value in names.items()}


_RETRY = {"Retry-After": str(RETRY_AFTER_SECONDS)}

GATEWAY_RESPONSES: tuple[GatewayResponse, ...] = (
    GatewayResponse(
        "BAD_REQUEST_BODY",
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_FAILED",
        "Invalid request body: it does not match the request schema",
        "The body does not match the operation's JSON Schema (API Gateway's request validator).",
    ),
    GatewayResponse(
        "BAD_REQUEST_PARAMETERS",
        HTTPStatus.BAD_REQUEST,
        "VALIDATION_FAILED",
        "Invalid request parameters",
        "A required path parameter is missing or empty.",
    ),
    GatewayResponse(
        "INVALID_API_KEY",
        HTTPStatus.FORBIDDEN,
        "INVALID_API_KEY",
        "Missing or invalid API key (x-api-key header)",
        "No x-api-key header, or a key that is unknown, disabled or not in a usage plan of the stage.",
    ),
    GatewayResponse(
        "MISSING_AUTHENTICATION_TOKEN",
        HTTPStatus.FORBIDDEN,
        "ROUTE_NOT_FOUND",
        "No route for this method and path",
        "The method and path match no route of the stage (API Gateway answers 403, not 404).",
    ),
    GatewayResponse(
        "RESOURCE_NOT_FOUND",
        HTTPStatus.NOT_FOUND,
        "ROUTE_NOT_FOUND",
        "No route for this method and path",
        "The resource does not exist.",
    ),
    GatewayResponse(
        "ACCESS_DENIED",
        HTTPStatus.FORBIDDEN,
        "ACCESS_DENIED",
        "Access denied",
        "Authorization failed.",
    ),
    GatewayResponse(
        "WAF_FILTERED",
        HTTPStatus.FORBIDDEN,
        "REQUEST_BLOCKED",
        "Request blocked by the web application firewall",
        "A WAF rule blocked the request (managed rule groups, or a rate limit per API key or per IP).",
    ),
    GatewayResponse(
        "THROTTLED",
        HTTPStatus.TOO_MANY_REQUESTS,
        "THROTTLED",
        "Too many requests: slow down and retry",
        "Above the usage plan's rate or burst for this API key, or the stage's throttling.",
        _RETRY,
    ),
    GatewayResponse(
        "QUOTA_EXCEEDED",
        HTTPStatus.TOO_MANY_REQUESTS,
        "QUOTA_EXCEEDED",
        "The API key's request quota for this period is used up",
        "The usage plan's quota (requests a day) for this API key is used up.",
    ),
    GatewayResponse(
        "REQUEST_TOO_LARGE",
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "Request too large",
        "Above API Gateway's 10 MB payload limit.",
    ),
    GatewayResponse(
        "UNSUPPORTED_MEDIA_TYPE",
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported media type",
        "A content type the API does not take.",
    ),
    GatewayResponse(
        "INTEGRATION_TIMEOUT",
        HTTPStatus.GATEWAY_TIMEOUT,
        "SERVICE_UNAVAILABLE",
        "The request timed out: retry with the same payload",
        "The function did not answer in time.",
        _RETRY,
    ),
    GatewayResponse(
        "INTEGRATION_FAILURE",
        HTTPStatus.SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "The service is busy: retry with the same payload",
        "The function could not be invoked: Lambda throttled it (its reserved concurrency is in use, "
        "e.g. a burst) or refused the call.",
        _RETRY,
    ),
    GatewayResponse(
        "DEFAULT_4XX",
        None,
        "CLIENT_ERROR",
        None,
        "Any other client error API Gateway answers (its own status and message).",
    ),
    GatewayResponse(
        "DEFAULT_5XX",
        None,
        INTERNAL_ERROR,
        "Internal server error",
        "The function failed or answered a malformed response (502), or another gateway-side failure.",
        _RETRY,
    ),
)
GATEWAY_RESPONSE: Mapping[str, GatewayResponse] = {r.response_type: r for r in GATEWAY_RESPONSES}
GATEWAY_ERROR_CODES = frozenset(r.code for r in GATEWAY_RESPONSES)
