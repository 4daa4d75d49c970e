"""Validation Lambda: POST /transaction and GET /transaction/{transaction_id} (API Gateway REST proxy).

Powertools' ``APIGatewayRestResolver`` routes; ``handlers.http`` turns results and domain errors into
HTTP answers. API Gateway only forwards the two routes; anything else that reaches the function gets a
JSON 404 or 405 all the same.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from handlers import http
from handlers.container import Container, Dependencies
from handlers.domain.cache import TTLCache
from handlers.domain.errors import RequestRefused
from handlers.domain.submission import TransactionService
from handlers.domain.transaction import decode_body
from handlers.observability import observability
from handlers.runtime_settings import ValidationSettings
from settings.catalog import VALIDATION

obs = observability(VALIDATION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics

COLLECTION = "/transaction"
ITEM = "/transaction/<transaction_id>"
ROUTES = {COLLECTION: "POST", ITEM: "GET"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _build(settings: ValidationSettings, dependencies: Dependencies) -> TransactionService:
    from handlers.adapters.dynamodb import MerchantTable, TransactionTable
    from handlers.adapters.messaging import TransactionQueue

    dynamodb = dependencies.client("dynamodb")
    return TransactionService(
        merchants=MerchantTable(dynamodb, settings.merchant_table_name),
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        queue=TransactionQueue(dependencies.client("sqs"), settings.queue_url),
        merchant_cache=TTLCache(
            settings.merchant_cache_ttl_seconds, clock=dependencies.monotonic or time.monotonic
        ),
        clock=dependencies.now,
    )


container = Container(ValidationSettings, _build)
wire, reset = container.wire, container.reset
app = APIGatewayRestResolver()


@app.post(COLLECTION)
def submit() -> Response[str]:
    wiring = container.current
    event = app.current_event
    payload = decode_body(
        event.body, is_base64=event.get("isBase64Encoded") is True, max_bytes=wiring.settings.max_body_bytes
    )
    result = wiring.service.submit(payload)
    obs.count("TransactionsAccepted" if result.outcome.is_new else "TransactionsReplayed")
    logger.info(
        "transaction accepted", extra={"transaction_id": result.transaction_id, "outcome": result.outcome}
    )
    return http.accepted(result.transaction_id)


@app.get(ITEM)
def status(transaction_id: str) -> Response[str]:
    return http.ok(container.current.service.status(transaction_id))


def _method_not_allowed(rule: str) -> None:
    allowed = ROUTES[rule]

    def refuse(**_: str) -> Response[str]:
        method = app.current_event.http_method.upper()
        _rejected(http.METHOD_NOT_ALLOWED)
        return http.error(http.METHOD_NOT_ALLOWED, f"{method} is not allowed on {rule}", allow=(allowed,))

    app.route(rule, method=[m for m in METHODS if m != allowed])(refuse)


for _rule in ROUTES:
    _method_not_allowed(_rule)


@app.not_found
def not_found(_: Exception) -> Response[str]:
    _rejected(http.NOT_FOUND)
    return http.error(http.NOT_FOUND, "No route for this path")


@app.exception_handler(RequestRefused)
def refused(exc: RequestRefused) -> Response[str]:
    _rejected(exc.code, exc)
    return http.refused(exc)


def _rejected(code: str, exc: RequestRefused | None = None) -> None:
    """Log a refused request; count it when it was a submission."""
    http_status = http.ERROR_STATUS[code]
    if http_status >= 500:
        cause = repr(exc.__cause__) if exc is not None else None
        logger.warning("dependency failure", extra={"code": code, "cause": cause})
    else:
        logger.info("request rejected", extra={"code": code, "status": int(http_status)})
    if app.current_event.http_method.upper() == "POST":
        obs.count_by("TransactionsRejected", "code", Counter({code: 1}))


def _routable(event: Any) -> bool:
    """A REST proxy event the resolver can read (API Gateway sends nothing else)."""
    return (
        isinstance(event, dict)
        and isinstance(event.get("path"), str)
        and isinstance(event.get("httpMethod"), str)
        and isinstance(event.get("headers") or {}, dict)
        and isinstance(event.get("multiValueHeaders") or {}, dict)
        and isinstance(event.get("queryStringParameters") or {}, dict)
        and isinstance(event.get("multiValueQueryStringParameters") or {}, dict)
        and isinstance(event.get("requestContext") or {}, dict)
        and isinstance(event.get("body"), str | None)
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``handlers.validation.handler``."""
    try:
        if not _routable(event):
            return http.proxy_response(http.error(http.NOT_FOUND, "Unsupported event"))
        return http.single_value_headers(app.resolve(event, context))
    except Exception:
        logger.exception("unhandled error")
        return http.proxy_response(http.error(http.INTERNAL_ERROR, "Internal error"))
    finally:
        obs.count("Requests")
