"""One service per Lambda container: built on the first invocation, then reused.

Tests and the local runtime rebuild it with ``wire(settings, <client>=...)`` to inject clients or
re-read the environment, and forget it with ``reset()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

SettingsT = TypeVar("SettingsT")
ServiceT = TypeVar("ServiceT")


@dataclass(frozen=True)
class Wiring(Generic[SettingsT, ServiceT]):
    settings: SettingsT
    service: ServiceT


class Container(Generic[SettingsT, ServiceT]):
    def __init__(self, build: Callable[..., Wiring[SettingsT, ServiceT]]) -> None:
        self._build = build
        self._wiring: Wiring[SettingsT, ServiceT] | None = None

    def wire(self, settings: SettingsT | None = None, **dependencies: Any) -> Wiring[SettingsT, ServiceT]:
        """Build (or rebuild) the service. Defaults: settings from the environment, one boto3 client per
        service (``dependencies`` name the clients or clock to use instead)."""
        self._wiring = self._build(settings, **dependencies)
        return self._wiring

    def reset(self) -> None:
        """Forget the service; the next invocation re-reads the environment and creates new clients."""
        self._wiring = None

    @property
    def current(self) -> Wiring[SettingsT, ServiceT]:
        return self._wiring or self.wire()
