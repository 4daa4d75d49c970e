"""Every exception of the handlers, in one module. Adapters map AWS client errors onto these.

The domain speaks in error codes; the entry point (``handlers/http.py``) maps each code to its HTTP
answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from card_transactions.handlers.domain.records import TransactionRecord


class ErrorCode(StrEnum):
    """Why the domain refused a request, or could not serve it now."""

    INVALID_JSON = "INVALID_JSON"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CARD_NUMBER_NOT_ALLOWED = "CARD_NUMBER_NOT_ALLOWED"  # named by field, the value never echoed
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    MERCHANT_NOT_FOUND = "MERCHANT_NOT_FOUND"
    MERCHANT_INACTIVE = "MERCHANT_INACTIVE"
    AMOUNT_EXCEEDS_MERCHANT_LIMIT = "AMOUNT_EXCEEDS_MERCHANT_LIMIT"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    TRANSACTION_NOT_FOUND = "TRANSACTION_NOT_FOUND"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # a dependency failed: the client should retry
    MERCHANT_ACCESS_DENIED = "MERCHANT_ACCESS_DENIED"  # the calling client is not bound to the merchant


class HandlerError(Exception):
    """Base class of all domain errors."""


class RequestRefused(HandlerError):
    """A request the domain refuses (or cannot serve now), with a code, a message and the bad fields."""

    code: ClassVar[ErrorCode]

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidJson(RequestRefused):
    code = ErrorCode.INVALID_JSON


class ValidationFailed(RequestRefused):
    code = ErrorCode.VALIDATION_FAILED


class CardNumberNotAllowed(RequestRefused):
    code = ErrorCode.CARD_NUMBER_NOT_ALLOWED


class PayloadTooLarge(RequestRefused):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class MerchantNotFound(RequestRefused):
    code = ErrorCode.MERCHANT_NOT_FOUND


class MerchantInactive(RequestRefused):
    code = ErrorCode.MERCHANT_INACTIVE


class AmountExceedsMerchantLimit(RequestRefused):
    code = ErrorCode.AMOUNT_EXCEEDS_MERCHANT_LIMIT


class IdempotencyConflict(RequestRefused):
    code = ErrorCode.IDEMPOTENCY_CONFLICT


class TransactionNotFound(RequestRefused):
    code = ErrorCode.TRANSACTION_NOT_FOUND


class ServiceUnavailable(RequestRefused):
    code = ErrorCode.SERVICE_UNAVAILABLE


class MerchantAccessDenied(RequestRefused):
    code = ErrorCode.MERCHANT_ACCESS_DENIED


# --- infrastructure-facing errors (raised by adapters) ----------------------------------------------


class DependencyError(HandlerError):
    """An AWS dependency failed after the client's retries (throttling, 5xx, timeout, access denied...)."""

    def __init__(self, operation: str, code: str, message: str = "") -> None:
        super().__init__(f"{operation} failed: {code} {message}".strip())
        self.operation = operation
        self.code = code


class ConditionFailed(HandlerError):
    """A conditional write was refused. ``existing`` is the stored record when the write returned it."""

    def __init__(self, operation: str, existing: TransactionRecord | None = None) -> None:
        super().__init__(f"{operation}: condition failed")
        self.operation = operation
        self.existing = existing


class InvalidMessage(HandlerError):
    """A queue message that cannot be parsed into a transaction message (poison message)."""
