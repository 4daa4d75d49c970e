"""Validation Lambda: POST /transaction and GET /transaction/{transaction_id} (API Gateway REST proxy).

A two-route router (below) picks the operation; ``handlers.http`` turns results and refusals into HTTP
answers. API Gateway only forwards the two routes; anything else that reaches the function gets a JSON
404 or 405 all the same. (Powertools' APIGatewayRestResolver was measured: its package, compiled on
every cold start since the zip carries no bytecode, took the import to ~1.56x ``import boto3``, over
the 1.5x target; see docs/handlers.md.)
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from card_transactions.handlers import http
from card_transactions.handlers.container import Container, Dependencies
from card_transactions.handlers.domain.api_keys import ApiKeyDirectory
from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.errors import RequestRefused
from card_transactions.handlers.domain.submission import TransactionService
from card_transactions.handlers.domain.transaction import decode_body
from card_transactions.handlers.observability import observability
from card_transactions.handlers.runtime_settings import ValidationSettings
from card_transactions.settings.system import VALIDATION

obs = observability(VALIDATION)
logger, tracer, metrics = obs.logger, obs.tracer, obs.metrics

COLLECTION = "/transaction"
ITEM = "/transaction/{transaction_id}"
ROUTES = {COLLECTION: "POST", ITEM: "GET"}  # API Gateway resource -> the one method it takes
_COLLECTION_PATH = re.compile(r"/transaction/?")
_ITEM_PATH = re.compile(r"/transaction/([^/]+)/?")


def _build(settings: ValidationSettings, dependencies: Dependencies) -> TransactionService:
    from card_transactions.handlers.adapters.dynamodb import ApiKeyTable, MerchantTable, TransactionTable

    dynamodb = dependencies.client("dynamodb")
    monotonic = dependencies.monotonic or time.monotonic
    return TransactionService(
        merchants=MerchantTable(dynamodb, settings.merchant_table_name),
        store=TransactionTable(dynamodb, settings.transaction_table_name),
        merchant_cache=TTLCache(settings.merchant_cache_ttl_seconds, clock=monotonic),
        clock=dependencies.now,
        keys=ApiKeyDirectory(
            ApiKeyTable(dynamodb, settings.api_key_table_name),
            TTLCache(settings.merchant_cache_ttl_seconds, clock=monotonic),
        ),
        binding_required=settings.require_merchant_clients,
    )


container = Container(ValidationSettings, _build)
wire, reset = container.wire, container.reset


def _route(event: dict[str, Any]) -> tuple[str, str | None]:
    """(resource, transaction_id): API Gateway's ``resource`` first, the raw ``path`` as a fallback."""
    resource = event.get("resource")
    params = event.get("pathParameters")
    if isinstance(resource, str) and resource in ROUTES:
        return resource, (params.get("transaction_id") if isinstance(params, dict) else None)
    path = event.get("path")
    if isinstance(path, str):
        if _COLLECTION_PATH.fullmatch(path):
            return COLLECTION, None
        if match := _ITEM_PATH.fullmatch(path):
            return ITEM, match.group(1)
    raise http.Refused(http.NOT_FOUND, "No route for this path")


def _key_id(event: dict[str, Any]) -> str | None:
    """The calling key's id (``requestContext.identity.apiKeyId``; API Gateway never passes the value)."""
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, dict) else None
    key_id = identity.get("apiKeyId") if isinstance(identity, dict) else None
    return key_id if isinstance(key_id, str) and key_id else None


def _dispatch(event: dict[str, Any]) -> dict[str, Any]:
    resource, transaction_id = _route(event)
    method = str(event.get("httpMethod") or "").upper()
    if method != ROUTES[resource]:
        message = f"{method or 'This method'} is not allowed on {resource}"
        raise http.Refused(http.METHOD_NOT_ALLOWED, message, allow=(ROUTES[resource],))
    wiring = container.current
    client = wiring.service.client_of_key(_key_id(event))
    if resource == ITEM:
        return http.ok(wiring.service.status(transaction_id, client))
    payload = decode_body(
        event.get("body"),
        is_base64=event.get("isBase64Encoded") is True,
        max_bytes=wiring.settings.max_body_bytes,
    )
    result = wiring.service.submit(payload, client)
    obs.count("TransactionsAccepted" if result.outcome.is_new else "TransactionsReplayed")
    logger.info(
        "transaction accepted", extra={"transaction_id": result.transaction_id, "outcome": result.outcome}
    )
    return http.accepted(result.transaction_id)


def _rejected(event: Any, exc: RequestRefused | http.Refused) -> None:
    """Log a refused request; count it when it was a submission."""
    status = http.ERROR_STATUS[exc.code]
    if status >= 500:
        logger.warning("dependency failure", extra={"code": exc.code, "cause": repr(exc.__cause__)})
    else:
        logger.info("request rejected", extra={"code": exc.code, "status": int(status)})
    if isinstance(event, dict) and str(event.get("httpMethod")).upper() == "POST":
        obs.count_by("TransactionsRejected", "code", Counter({exc.code: 1}))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``handlers.validation.handler``."""
    try:
        if not isinstance(event, dict):
            raise http.Refused(http.NOT_FOUND, "Unsupported event")
        return _dispatch(event)
    except (RequestRefused, http.Refused) as exc:
        _rejected(event, exc)
        return http.refusal(exc, http.request_id_of(event))
    except Exception:
        logger.exception("unhandled error")
        return http.error(http.INTERNAL_ERROR, "Internal error", request_id=http.request_id_of(event))
    finally:
        obs.count("Requests")
