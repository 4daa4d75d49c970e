"""Validation Lambda: POST /transaction and GET /transaction/{transaction_id} (API Gateway REST proxy)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from handlers.container import Container, Wiring
from handlers.domain.cache import TTLCache
from handlers.domain.errors import ApiError, MethodNotAllowed, RouteNotFound
from handlers.domain.submission import ACCEPTED, RECOVERED, TransactionService
from handlers.domain.transaction import decode_body
from handlers.observability import observability
from handlers.runtime_settings import ValidationSettings
from settings.catalog import VALIDATION

obs = observability(VALIDATION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics

COLLECTION = "/transaction"
ITEM = "/transaction/{transaction_id}"
ALLOWED = {COLLECTION: ("POST",), ITEM: ("GET",)}
_ITEM_PATH = re.compile(r"/transaction/([^/]+)/?")
_COLLECTION_PATH = re.compile(r"/transaction/?")
JSON_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _build(
    settings: ValidationSettings | None = None,
    *,
    dynamodb: Any = None,
    sqs: Any = None,
    clock: Any = None,
    monotonic: Any = None,
) -> Wiring[ValidationSettings, TransactionService]:
    from handlers.adapters.aws import make_client
    from handlers.adapters.dynamodb import MerchantTable, TransactionTable
    from handlers.adapters.messaging import TransactionQueue

    settings = settings or ValidationSettings.from_env(os.environ)
    dynamodb = dynamodb or make_client("dynamodb")
    sqs = sqs or make_client("sqs")
    cache_args = {"clock": monotonic} if monotonic else {}
    service = TransactionService(
        merchants=MerchantTable(dynamodb, settings.merchant_table_name),
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        queue=TransactionQueue(sqs, settings.queue_url),
        merchant_cache=TTLCache(settings.merchant_cache_ttl_seconds, **cache_args),
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return Wiring(settings, service)


container = Container(_build)
wire, reset = container.wire, container.reset


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def respond(status_code: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status_code,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, default=_json_default, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_response(exc: ApiError) -> dict[str, Any]:
    headers: dict[str, str] = {}
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    if exc.status_code == 503:
        headers["Retry-After"] = "1"
    body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    return respond(exc.status_code, body, headers)


def _route(event: dict[str, Any]) -> tuple[str, str | None]:
    """(resource, transaction_id) from the proxy event: `resource` first, the raw `path` as a fallback."""
    resource = event.get("resource")
    params = event.get("pathParameters") or {}
    if isinstance(resource, str) and resource in ALLOWED:
        return resource, (params.get("transaction_id") if isinstance(params, dict) else None)
    path = event.get("path")
    if isinstance(path, str):
        if _COLLECTION_PATH.fullmatch(path):
            return COLLECTION, None
        match = _ITEM_PATH.fullmatch(path)
        if match:
            return ITEM, match.group(1)
    raise RouteNotFound("No route for this path")


def _dispatch(event: dict[str, Any]) -> dict[str, Any]:
    resource, transaction_id = _route(event)
    method = str(event.get("httpMethod") or "").upper()
    if method not in ALLOWED[resource]:
        raise MethodNotAllowed(f"{method or 'This method'} is not allowed on {resource}", ALLOWED[resource])
    wiring = container.current
    if resource == ITEM:
        return respond(200, wiring.service.status(transaction_id))
    payload = decode_body(
        event.get("body"),
        is_base64=event.get("isBase64Encoded") is True,
        max_bytes=wiring.settings.max_body_bytes,
    )
    result = wiring.service.submit(payload)
    transaction_id = result.body["transaction_id"]
    if result.outcome in (ACCEPTED, RECOVERED):
        obs.count("TransactionsAccepted")
    else:
        obs.count("TransactionsReplayed")
    logger.info("transaction accepted", extra={"transaction_id": transaction_id, "outcome": result.outcome})
    return respond(result.status_code, result.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def _instrumented(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        if not isinstance(event, dict):
            raise RouteNotFound("Unsupported event")
        return _dispatch(event)
    except ApiError as exc:
        if exc.status_code >= 500:
            logger.warning("dependency failure", extra={"code": exc.code, "cause": repr(exc.__cause__)})
        else:
            logger.info("request rejected", extra={"code": exc.code, "status": exc.status_code})
        if isinstance(event, dict) and str(event.get("httpMethod")).upper() == "POST":
            obs.count_by("TransactionsRejected", "code", Counter({exc.code: 1}))
        return error_response(exc)
    finally:
        obs.count("Requests")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: `handlers.validation.handler`."""
    try:
        return _instrumented(event, context)
    except Exception:
        logger.exception("unhandled error")
        return respond(500, {"error": {"code": "INTERNAL_ERROR", "message": "Internal error", "details": []}})
