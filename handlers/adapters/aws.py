"""boto3 client factory: one client per service per container, short timeouts, standard retries.

boto3 honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> natively: the endpoint is the environment's
business, not the code's.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from card_transactions.handlers.domain.errors import DependencyError

CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=3,
    # total_max_attempts counts the first try (retries={"max_attempts": N} would mean N retries, N + 1 tries).
    retries={"mode": "standard", "total_max_attempts": 3},
    tcp_keepalive=True,
)


def make_client(service: str, session: Any = None) -> Any:
    return (session or boto3).client(service, config=CLIENT_CONFIG)


def dependency_error(operation: str, exc: Exception) -> DependencyError:
    """Map a botocore failure (after the client's own retries) onto the domain error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return DependencyError(
            operation, str(error.get("Code", "ClientError")), str(error.get("Message", ""))
        )
    if isinstance(exc, BotoCoreError):
        return DependencyError(operation, type(exc).__name__, str(exc))
    return DependencyError(operation, type(exc).__name__)


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


__all__ = [
    "CLIENT_CONFIG",
    "BotoCoreError",
    "ClientError",
    "dependency_error",
    "is_condition_failure",
    "make_client",
]
