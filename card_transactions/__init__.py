"""The card-transaction system as a cdktf construct library: ``card_transactions``.

``card_transactions.stacks`` holds the construct and its props, ``card_transactions.handlers`` the
Lambda handlers and ``card_transactions.settings`` the settings they read (in the repository these are
the top-level ``stacks/``, ``handlers/`` and ``settings/`` folders, linked here). The common names are
exported lazily, so importing this package imports nothing else: the Lambda packages carry it without
cdktf, and a host app loads the construct only when it asks for it::

    from card_transactions import TransactionProcessing, TransactionProcessingProps
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from card_transactions.stacks.bindings import activate
    from card_transactions.stacks.processing import TransactionProcessing
    from card_transactions.stacks.props import (
        AccessProps,
        AlertTopic,
        ApiProps,
        EncryptionProps,
        ExistingVpc,
        FraudProps,
        FunctionsProps,
        MonitoringProps,
        NamingProps,
        NetworkProps,
        NewNetwork,
        QueuesProps,
        StorageProps,
        TransactionProcessingProps,
    )

__all__ = [
    "AccessProps",
    "AlertTopic",
    "ApiProps",
    "EncryptionProps",
    "ExistingVpc",
    "FraudProps",
    "FunctionsProps",
    "MonitoringProps",
    "NamingProps",
    "NetworkProps",
    "NewNetwork",
    "QueuesProps",
    "StorageProps",
    "TransactionProcessing",
    "TransactionProcessingProps",
    "activate",
]
# The module of each exported name that is not one of the props.
_MODULES = {
    "activate": "card_transactions.stacks.bindings",
    "TransactionProcessing": "card_transactions.stacks.processing",
}


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULES.get(name, "card_transactions.stacks.props")), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
