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

from handlers.domain.records import PUBLIC_FIELDS, STATUSES
from handlers.gateway_responses import GATEWAY_ERROR_CODES
from handlers.http import ACCEPTED_MESSAGE, ACCEPTED_STATUS, ERROR_STATUS
from local.stack import ApiSpec, RouteSpec

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


def _error(description: str) -> dict[str, Any]:
    return _json("#/components/schemas/Error", description)


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
        responses["400"] = _error(
            "VALIDATION_FAILED: the body does not match the schema (API Gateway's validator) or breaks a "
            "rule only the function checks, such as at most 2 decimal places"
        )
        responses["409"] = _error("transaction_id already used with a different payload")
        responses["413"] = _error("Body larger than the configured maximum")
        responses["422"] = _error("Unknown or inactive merchant, or amount above the merchant's limit")
    else:
        operation["summary"] = "Read a transaction's current status"
        operation["operationId"] = "getTransaction"
        responses["200"] = _json("#/components/schemas/Transaction", "The transaction")
        responses["400"] = _error("Malformed transaction id")
        responses["404"] = _error("No such transaction")
    if route.api_key_required:
        responses["403"] = _error("INVALID_API_KEY: missing or invalid x-api-key; REQUEST_BLOCKED: the WAF")
        responses["429"] = _error("Usage plan: THROTTLED (rate/burst) or QUOTA_EXCEEDED (quota)")
        operation["security"] = [{"apiKey": []}]
    responses["503"] = _error("A dependency is unavailable; retry with the same payload")
    if route.body_schema is not None:
        name = route.body_schema.get("title") or "Request"
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
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
            "from the synthesized stack; do not edit by hand.",
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
    from local.stack import load_stack
    from local.synth import stack_json
    from settings.catalog import Settings

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
