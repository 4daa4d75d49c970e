"""OpenAPI 3.1 document of the API, generated from the synthesized stack and the one JSON Schema.

Paths, methods, the stage, the API-key requirement and the request body schema come from the stack
(whose request model is ``handlers.domain.schema.load_transaction_schema()``); status values come from
the handlers' domain, error codes from the validation function's HTTP edge (``handlers/http.py``).
``python -m local.openapi`` writes ``docs/openapi.json`` from the default settings; ``--check`` fails
when the committed file is out of date. The local runtime serves the same document at
``/{stage}/openapi.json`` with its own URL as the first server.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from card_transactions.handlers.domain.card_numbers import refusal_summary
from card_transactions.handlers.domain.records import PUBLIC_FIELDS, STATUSES
from card_transactions.handlers.gateway_responses import GATEWAY_ERROR_CODES, GATEWAY_RESPONSES
from card_transactions.handlers.http import ACCEPTED_MESSAGE, ACCEPTED_STATUS, ERROR_STATUS
from local.stack import ApiSpec, RouteSpec

# A transaction of the sample merchant merchant_001 ("Test Merchant"): REVIEW_REQUIRED, score 40.
REQUEST_EXAMPLE = {
    "transaction_id": "txn_example_001",
    "merchant_id": "merchant_001",
    "amount": 1500.00,
    "currency": "USD",
}
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
VERSION = "1.0.0"


def to_json_schema_2020(schema: Any) -> Any:
    """Draft-04 -> JSON Schema 2020-12 (OpenAPI 3.1): boolean exclusive bounds become numeric ones."""
    if isinstance(schema, list):
        return [to_json_schema_2020(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: to_json_schema_2020(v) for k, v in schema.items() if k != "$schema"}
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if out.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
        elif out.get(exclusive) is False:
            del out[exclusive]
    if "id" in out and isinstance(out["id"], str):
        out["$id"] = out.pop("id")
    return out


def _statuses() -> list[str]:
    return [status.value for status in STATUSES]


def _error_codes() -> list[str]:
    return sorted(set(ERROR_STATUS) | GATEWAY_ERROR_CODES)


def _components(routes: tuple[RouteSpec, ...]) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Accepted": {
            "type": "object",
            "required": ["message", "transaction_id", "status"],
            "properties": {
                "message": {"type": "string", "const": ACCEPTED_MESSAGE},
                "transaction_id": {"type": "string"},
                "status": {"type": "string", "const": ACCEPTED_STATUS},
            },
        },
        "Transaction": {
            "type": "object",
            "description": "A stored transaction as GET returns it (no internal fields).",
            "required": ["transaction_id", "status"],
            "properties": {
                "transaction_id": {"type": "string"},
                "merchant_id": {"type": "string"},
                "amount": {"type": "string", "description": 'Two decimal places, e.g. "1500.00".'},
                "currency": {"type": "string"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "status": {"type": "string", "enum": _statuses()},
                "fraud_score": {"type": ["integer", "null"]},
                "reasons": {"type": "array", "items": {"type": "string"}},
                "received_at": {"type": "string", "format": "date-time"},
                "processed_at": {"type": ["string", "null"], "format": "date-time"},
                "failure_reason": {"type": "string"},
            },
        },
        "Error": {
            "type": "object",
            "description": "Every error of the API, answered by its function or by API Gateway itself.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details", "request_id"],
                    "properties": {
                        "code": {"type": "string", "enum": _error_codes()},
                        "message": {"type": "string"},
                        "request_id": {
                            "type": ["string", "null"],
                            "description": "API Gateway's request id, also in the x-amzn-RequestId header",
                        },
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                            },
                        },
                    },
                }
            },
        },
    }
    missing = sorted(set(PUBLIC_FIELDS) - set(schemas["Transaction"]["properties"]))
    if missing:
        raise ValueError(
            f"the Transaction schema lacks the public fields {missing} (handlers.domain.records)"
        )
    for route in routes:
        if route.body_schema is not None:
            model = to_json_schema_2020(copy.deepcopy(route.body_schema))
            schemas[model.get("title") or "Request"] = model
    return {
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        "schemas": schemas,
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


# The function's refusals per operation: status -> (code, when). API Gateway's own come from
# handlers.gateway_responses (``_gateway_errors``).
_FUNCTION_ERRORS: dict[str, dict[int, list[tuple[str, str]]]] = {
    "POST": {
        400: [
            ("INVALID_JSON", "the body is not JSON"),
            (
                "VALIDATION_FAILED",
                "the body does not match the Transaction schema, or amount has more than 2 decimal places "
                "(details name the fields)",
            ),
            (
                "CARD_NUMBER_NOT_ALLOWED",
                "a field or field name holds a card number (see the API description; details name the "
                "fields, never the value)",
            ),
        ],
        403: [("MERCHANT_ACCESS_DENIED", "the calling API client is not bound to the merchant")],
        409: [("IDEMPOTENCY_CONFLICT", "transaction_id already used with a different payload")],
        413: [("PAYLOAD_TOO_LARGE", "body larger than the configured maximum (MAX_BODY_BYTES)")],
        422: [
            ("MERCHANT_NOT_FOUND", "no such merchant"),
            ("MERCHANT_INACTIVE", "the merchant is not active"),
            ("AMOUNT_EXCEEDS_MERCHANT_LIMIT", "amount above the merchant's maximum transaction amount"),
        ],
    },
    "GET": {
        400: [
            ("VALIDATION_FAILED", "malformed transaction id"),
            ("CARD_NUMBER_NOT_ALLOWED", "the transaction id is a card number"),
        ],
        404: [
            ("TRANSACTION_NOT_FOUND", "no such transaction, or one of a merchant the caller is not bound to")
        ],
    },
}
_COMMON_FUNCTION_ERRORS: dict[int, list[tuple[str, str]]] = {
    500: [("INTERNAL_ERROR", "an unexpected error of the function")],
    503: [("SERVICE_UNAVAILABLE", "a dependency is unavailable: retry with the same payload")],
}
# Gateway responses that never concern an operation of this API (route-level, or no authorizer).
_NOT_PER_OPERATION = {"MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND", "ACCESS_DENIED", "DEFAULT_4XX"}


def _gateway_errors(route: RouteSpec) -> dict[int, list[tuple[str, str]]]:
    """API Gateway's own errors of ``route``, by status (DEFAULT_5XX: the 502 of a failed function)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for response in GATEWAY_RESPONSES:
        if response.response_type in _NOT_PER_OPERATION:
            continue
        body_only = ("BAD_REQUEST_BODY", "REQUEST_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE")
        if response.response_type in body_only and route.body_schema is None:
            continue
        if response.response_type == "BAD_REQUEST_BODY" and not route.validates_body:
            continue
        if response.response_type == "BAD_REQUEST_PARAMETERS" and not route.required_path_parameters:
            continue
        if response.response_type in ("INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED") and not (
            route.api_key_required
        ):
            continue
        status = int(response.status) if response.status is not None else 502
        out.setdefault(status, []).append((response.code, f"{response.description} (API Gateway)"))
    return out


def _error_response(status: int, errors: list[tuple[str, str]]) -> dict[str, Any]:
    """One status of an operation: its codes (an enum a client can branch on) and an example."""
    codes = sorted({code for code, _ in errors})
    first_code, first_when = errors[0]
    example = {
        "error": {
            "code": first_code,
            "message": first_when[0].upper() + first_when[1:],
            "details": [],
            "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        }
    }
    return {
        "description": "; ".join(f"`{code}`: {when}" for code, when in errors),
        "headers": {
            "x-amzn-RequestId": {
                "description": "API Gateway's request id (also error.request_id)",
                "schema": {"type": "string"},
            }
        },
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Error"},
                        {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
                    ]
                },
                "example": example,
            }
        },
    }


def _operation(route: RouteSpec) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    operation: dict[str, Any] = {}
    if route.method == "POST":
        operation["summary"] = "Submit a transaction for validation and fraud scoring"
        operation["operationId"] = "submitTransaction"
        responses["202"] = _json(
            "#/components/schemas/Accepted",
            "Accepted and queued for the fraud check (also the answer to a replay of the same payload).",
        )
        responses["202"]["links"] = {
            "GetTransaction": {
                "operationId": "getTransaction",
                "parameters": {"transaction_id": "$response.body#/transaction_id"},
                "description": "The transaction's status, by the id the answer returns",
            }
        }
    else:
        operation["summary"] = "Read a transaction's current status"
        operation["operationId"] = "getTransaction"
        responses["200"] = _json("#/components/schemas/Transaction", "The transaction")
    errors: dict[int, list[tuple[str, str]]] = {}
    for table in (_gateway_errors(route), _FUNCTION_ERRORS.get(route.method, {}), _COMMON_FUNCTION_ERRORS):
        for status, rows in table.items():
            errors.setdefault(status, []).extend(rows)
    for status, rows in errors.items():
        responses[str(status)] = _error_response(status, rows)
    if route.api_key_required:
        operation["security"] = [{"apiKey": []}]
    if route.body_schema is not None:
        name = route.body_schema.get("title") or "Request"
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{name}"},
                    "example": REQUEST_EXAMPLE,
                }
            },
        }
    parameters = [
        {
            "name": p,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }
        for p in route.required_path_parameters
    ]
    if parameters:
        operation["parameters"] = parameters
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def build_openapi(api: ApiSpec, region: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in api.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Transaction processing API",
            "version": VERSION,
            "description": "Submit card transactions for validation and asynchronous fraud scoring, and read "
            "their status. Every request needs an `x-api-key` header. Generated by `python -m local.openapi` "
            "from the synthesized stack; do not edit by hand.\n\n"
            "Card numbers (400 `CARD_NUMBER_NOT_ALLOWED`, in every field, field name and the GET path): "
            + refusal_summary(),
        },
        "servers": [
            {
                "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/" + api.stage,
                "description": "Deployed stage",
                "variables": {
                    "restApiId": {"default": "abc123def4", "description": "the api_endpoint output's id"},
                    "region": {"default": region},
                },
            }
        ],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": _components(api.routes),
    }


def with_local_server(document: dict[str, Any], url: str) -> dict[str, Any]:
    served = copy.deepcopy(document)
    served["servers"] = [{"url": url, "description": "Local runtime (make local)"}, *served["servers"]]
    return served


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def default_document() -> dict[str, Any]:
    """The document of the stack synthesized with default settings (what docs/openapi.json holds)."""
    from card_transactions.settings.catalog import Settings
    from local.stack import load_stack
    from local.synth import stack_json

    environ = {
        k: v for k, v in os.environ.items() if k not in Settings.variables() and k != "LOCAL_STACK_JSON"
    }
    stack = load_stack(stack_json(environ, log=lambda *_: None))
    if stack.api is None:
        raise ValueError("the stack has no REST API")
    return build_openapi(stack.api, stack.region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/openapi.json is out of date")
    args = parser.parse_args(argv)
    text = render(default_document())
    if args.check:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT} is out of date: run `python -m local.openapi`", file=sys.stderr)
            return 1
        print(f"{DOCUMENT} is up to date")
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
