"""The local runtime's own settings, declared here (``LocalSettings``, documented in docs/local.md by
``python -m settings``) and read by ``LocalConfig``; the deployment's settings come from the synthesized
stack."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Self

from card_transactions.settings.model import SettingsGroup, between, matches, min_length, one_of, setting

HOST = "127.0.0.1"  # never bind anything else: the runtime has fake credentials and no auth on moto

FAULT_SERVICES = ("dynamodb", "sns", "sqs")  # what random faults and outages may fail
_OUTAGE_SERVICE = "(" + "|".join(FAULT_SERVICES) + ")"
_SECONDS = r"[0-9]+(\.[0-9]+)?"
# SERVICES@START+DURATION: a window ends with a number and a service list starts with a letter, so the
# windows may be separated by ';' or ',' without ambiguity.
OUTAGE_WINDOW = rf"{_OUTAGE_SERVICE}(,{_OUTAGE_SERVICE})*@{_SECONDS}\+{_SECONDS}"


class LocalSettings(SettingsGroup):
    """The local runtime's own settings; the deployment's settings apply to it as to synth."""

    api_port: int = setting(
        "LOCAL_API_PORT",
        between(0, 65_535),
        default=8080,
        doc="port of the API on 127.0.0.1 (nothing else is bound; `0` picks a free one)",
    )
    aws_port: int = setting(
        "LOCAL_AWS_PORT", between(0, 65_535), default=5000, doc="port of the AWS endpoint (moto) on 127.0.0.1"
    )
    api_key: str = setting(
        "LOCAL_API_KEY",
        min_length(20),
        empty_allowed=True,
        secret=True,
        shown_default="generated",
        default="",
        doc="the API key of the first API client (API Gateway's minimum length)",
    )
    api_clients: tuple[str, ...] = setting(
        "LOCAL_API_CLIENTS",
        matches(r"[a-z][a-z0-9-]{0,31}=[^\s=,]{20,}", "NAME=KEY, KEY at least 20 characters"),
        empty_allowed=True,
        secret=True,
        shown_default="generated",
        default=(),
        doc="the API key of each API client of the stack (`API_CLIENTS`); a client not named gets a "
        "generated key",
    )
    seed_merchants: bool = setting("LOCAL_SEED", default=True, doc="seed the sample merchants")
    concurrency: int = setting(
        "LOCAL_CONCURRENCY",
        between(1, 64),
        default=2,
        doc="execution environments (processes) per function at most; like Lambda's, each runs one "
        "invocation at a time",
    )
    retry_visibility_seconds: int = setting(
        "LOCAL_RETRY_VISIBILITY_SECONDS",
        between(0, 43_200),
        default=2,
        doc="a failed record returns to its function after this (the local stand-in for the queue's "
        "visibility timeout)",
    )
    log_level: str = setting(
        "LOCAL_LOG_LEVEL",
        one_of("DEBUG", "INFO", "WARNING", "ERROR"),
        normalize=str.upper,
        default="WARNING",
        doc="the functions' log level (`INFO` shows every record)",
    )
    access_log: bool = setting("LOCAL_ACCESS_LOG", default=True, doc="one line per API request")
    fault_rate: float = setting(
        "LOCAL_FAULT_RATE",
        between(0.0, 1.0),
        default=0.0,
        doc="share of the calls that fail (throttling, 5xx, or applied-but-500), for resilience tests: the "
        "functions' calls, and the event bus's deliveries to SNS and SQS",
    )
    fault_services: tuple[str, ...] = setting(
        "LOCAL_FAULT_SERVICES",
        one_of(*FAULT_SERVICES),
        normalize=str.lower,
        default=FAULT_SERVICES,
        doc="the services whose calls fail",
    )
    fault_seed: int | None = setting(
        "LOCAL_FAULT_SEED",
        between(0, 2**63),
        shown_default="random",
        default=None,
        doc="seed of the fault sequence",
    )
    # Scripted outages and the scheduled reconciler
    outage: str = setting(
        "LOCAL_OUTAGE",
        matches(
            rf"{OUTAGE_WINDOW}([;,]{OUTAGE_WINDOW})*",
            "windows SERVICES@START+DURATION (seconds after ready; services among "
            + ", ".join(FAULT_SERVICES)
            + "), separated by ';' or ','",
        ),
        normalize=lambda text: "".join(text.split()).lower(),
        empty_allowed=True,
        shown_default="none",
        default="",
        doc="scripted outages: every call of the functions, and every delivery of the event bus, to those "
        "services fails in each window, e.g. `dynamodb,sns@30+60;sqs@200+10`",
    )
    schedule_seconds: float = setting(
        "LOCAL_SCHEDULE_SECONDS",
        between(0.5, 3600),
        default=5.0,
        doc="scheduled functions (the reconciler) run this often (the stack's schedule is in minutes)",
    )
    reconcile_after_seconds: int = setting(
        "LOCAL_RECONCILE_AFTER_SECONDS",
        between(1, 345_600),
        default=10,
        doc="the reconciler re-drives transactions pending this long (the stack's RECONCILE_AFTER_SECONDS)",
    )
    stack_json: str = setting(
        "LOCAL_STACK_JSON",
        empty_allowed=True,
        shown_default="synthesized",
        default="",
        doc="run this `cdk.tf.json` instead of synthesizing",
    )
    ready_file: str = setting(
        "LOCAL_READY_FILE",
        empty_allowed=True,
        shown_default="none",
        default="",
        doc="write endpoints and resource names there as JSON once ready",
    )


@dataclass(frozen=True)
class OutageWindow:
    """Every call of the functions (and delivery of the event bus) to ``services`` fails from ``start``
    to ``start + duration`` seconds after the runtime is ready."""

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
    """Random failures of the functions' calls and the event bus's deliveries, and scripted outages (tests
    only)."""

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
