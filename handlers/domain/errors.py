"""Every exception of the handlers, in one module. Adapters map AWS client errors onto these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HandlerError(Exception):
    """Base class of all domain errors."""


class ApiError(HandlerError):
    """An error that maps to an HTTP answer `{"error": {"code", "message", "details"}}`."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidJson(ApiError):
    status_code = 400
    code = "INVALID_JSON"


class ValidationFailed(ApiError):
    status_code = 400
    code = "VALIDATION_FAILED"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class MerchantNotFound(ApiError):
    status_code = 422
    code = "MERCHANT_NOT_FOUND"


class MerchantInactive(ApiError):
    status_code = 422
    code = "MERCHANT_INACTIVE"


class AmountExceedsMerchantLimit(ApiError):
    status_code = 422
    code = "AMOUNT_EXCEEDS_MERCHANT_LIMIT"


class IdempotencyConflict(ApiError):
    status_code = 409
    code = "IDEMPOTENCY_CONFLICT"


class TransactionNotFound(ApiError):
    status_code = 404
    code = "TRANSACTION_NOT_FOUND"


class RouteNotFound(ApiError):
    status_code = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ApiError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


# --- infrastructure-facing errors (raised by adapters) ----------------------------------------------


class DependencyError(HandlerError):
    """An AWS dependency failed after the client's retries (throttling, 5xx, timeout, access denied...)."""

    def __init__(self, operation: str, code: str, message: str = "") -> None:
        super().__init__(f"{operation} failed: {code} {message}".strip())
        self.operation = operation
        self.code = code


class ConditionFailed(HandlerError):
    """A conditional write was refused. `existing` holds the stored item (plain Python values) when known."""

    def __init__(self, operation: str, existing: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{operation}: condition failed")
        self.operation = operation
        self.existing = dict(existing) if existing is not None else None


class InvalidMessage(HandlerError):
    """A queue message that cannot be parsed into a transaction message (poison message)."""
