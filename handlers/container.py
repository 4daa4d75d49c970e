"""One service per Lambda container: built on the first invocation, then reused.

An entry point declares its settings view and how to build its service from the settings and the
``Dependencies`` (AWS clients and clocks). Tests and benchmarks rebuild it with
``wire(settings, <client>=...)`` to inject clients or re-read the environment, and forget it with
``reset()``. boto3 is imported on the first wiring, not when the entry point is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, Self, TypeVar


class _FromEnvironment(Protocol):
    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self: ...


SettingsT = TypeVar("SettingsT", bound=_FromEnvironment)
ServiceT = TypeVar("ServiceT")


@dataclass(frozen=True)
class Dependencies:
    """The clients and clocks a service is built with; those not given are the real ones."""

    dynamodb: Any = None
    sns: Any = None
    clock: Callable[[], datetime] | None = None
    monotonic: Callable[[], float] | None = None

    def client(self, service: str) -> Any:
        from card_transactions.handlers.adapters.aws import make_client

        return getattr(self, service) or make_client(service)

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(UTC)


@dataclass(frozen=True)
class Wiring(Generic[SettingsT, ServiceT]):
    settings: SettingsT
    service: ServiceT


class Container(Generic[SettingsT, ServiceT]):
    def __init__(
        self, settings: type[SettingsT], build: Callable[[SettingsT, Dependencies], ServiceT]
    ) -> None:
        self._settings = settings
        self._build = build
        self._wiring: Wiring[SettingsT, ServiceT] | None = None

    def wire(self, settings: SettingsT | None = None, **dependencies: Any) -> Wiring[SettingsT, ServiceT]:
        """Build (or rebuild) the service. Defaults: settings from the environment, one boto3 client per
        service (``dependencies`` name the clients or clocks to use instead)."""
        settings = settings or self._settings.from_env(os.environ)
        self._wiring = Wiring(settings, self._build(settings, Dependencies(**dependencies)))
        return self._wiring

    def reset(self) -> None:
        """Forget the service; the next invocation re-reads the environment and creates new clients."""
        self._wiring = None

    @property
    def current(self) -> Wiring[SettingsT, ServiceT]:
        return self._wiring or self.wire()
