"""The local runtime's own settings (declared in ``settings/catalog.py``, ``LocalSettings``); the
system's settings come from the synthesized stack."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

from card_transactions.settings.catalog import FAULT_SERVICES, LocalSettings

HOST = "127.0.0.1"  # never bind anything else: the runtime has fake credentials and no auth on moto


@dataclass(frozen=True)
class OutageWindow:
    """Every call of the functions to ``services`` fails from ``start`` to ``start + duration`` seconds
    after the runtime is ready."""

    services: tuple[str, ...]
    start: float
    duration: float

    def covers(self, service: str, elapsed: float) -> bool:
        return service in self.services and self.start <= elapsed < self.start + self.duration


_WINDOW_SEPARATOR = re.compile(r"(?<=[0-9])[;,](?=[a-z])")


def parse_outages(text: str) -> tuple[OutageWindow, ...]:
    """``dynamodb,sns@30+60;sqs@200+10`` (checked by LOCAL_OUTAGE's declaration) as windows."""
    windows = []
    for part in filter(None, _WINDOW_SEPARATOR.split(text)):
        services, _, timing = part.partition("@")
        start, _, duration = timing.partition("+")
        windows.append(OutageWindow(tuple(services.split(",")), float(start), float(duration)))
    return tuple(windows)


@dataclass(frozen=True)
class FaultConfig:
    """Random failures of the functions' DynamoDB/SNS calls, and scripted outages (tests only)."""

    rate: float = 0.0
    services: tuple[str, ...] = FAULT_SERVICES
    seed: int | None = None
    outages: tuple[OutageWindow, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.rate > 0 or bool(self.outages)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FaultConfig:
        data = json.loads(text)
        outages = tuple(
            OutageWindow(tuple(w["services"]), float(w["start"]), float(w["duration"]))
            for w in data.get("outages", ())
        )
        return cls(float(data["rate"]), tuple(data["services"]), data["seed"], outages)


class LocalConfig(LocalSettings):
    """``LocalSettings`` with the API key the runtime uses: ``LOCAL_API_KEY``, or a generated one."""

    api_key_generated: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        config = super().from_env(environ)
        if config.api_key:
            return config
        return config.replace(api_key=secrets.token_urlsafe(30), api_key_generated=True)

    def client_keys(self, clients: Sequence[str]) -> dict[str, str]:
        """The API key of each of the stack's ``clients``: ``LOCAL_API_CLIENTS``, else ``LOCAL_API_KEY``
        for the first client, else a generated one. Raises ValueError for a client the stack lacks."""
        named = dict(item.split("=", 1) for item in self.api_clients)
        unknown = sorted(set(named) - set(clients))
        if unknown:
            raise ValueError(
                f"LOCAL_API_CLIENTS names {', '.join(unknown)}, which the stack's API_CLIENTS "
                f"({', '.join(clients) or 'none'}) does not declare"
            )
        keys = {
            name: named.get(name) or (self.api_key if index == 0 else secrets.token_urlsafe(30))
            for index, name in enumerate(clients)
        }
        if len(set(keys.values())) != len(keys):
            raise ValueError("LOCAL_API_CLIENTS and LOCAL_API_KEY must give every client its own key")
        return keys

    @property
    def faults(self) -> FaultConfig:
        return FaultConfig(self.fault_rate, self.fault_services, self.fault_seed, parse_outages(self.outage))
