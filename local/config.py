"""Settings of the local runtime itself (the system's settings come from the synthesized stack)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

HOST = "127.0.0.1"  # never bind anything else: the runtime has fake credentials and no auth on moto
MIN_API_KEY_LENGTH = 20  # API Gateway's minimum for an API key value
FAULT_SERVICES = ("dynamodb", "sns")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {raw!r}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {raw!r}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class FaultConfig:
    """Random failures of the handlers' DynamoDB/SNS calls (tests only)."""

    rate: float = 0.0
    services: tuple[str, ...] = FAULT_SERVICES
    seed: int | None = None

    @property
    def enabled(self) -> bool:
        return self.rate > 0


@dataclass(frozen=True)
class LocalConfig:
    aws_port: int = 5000
    api_port: int = 8080
    api_key: str = ""
    api_key_generated: bool = False
    seed_merchants: bool = True
    retry_visibility_seconds: int = 2
    log_level: str = "WARNING"
    access_log: bool = True
    ready_file: str = ""
    faults: FaultConfig = FaultConfig()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LocalConfig:
        api_key = environ.get("LOCAL_API_KEY", "").strip()
        if api_key and len(api_key) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"LOCAL_API_KEY must be at least {MIN_API_KEY_LENGTH} characters (like API Gateway), "
                f"got {len(api_key)}"
            )
        services = tuple(
            s.strip().lower()
            for s in environ.get("LOCAL_FAULT_SERVICES", ",".join(FAULT_SERVICES)).split(",")
            if s.strip()
        )
        unknown = sorted(set(services) - set(FAULT_SERVICES))
        if unknown:
            raise ValueError(f"LOCAL_FAULT_SERVICES must name {FAULT_SERVICES}, got {unknown}")
        seed_raw = environ.get("LOCAL_FAULT_SEED", "").strip()
        level = environ.get("LOCAL_LOG_LEVEL", "WARNING").strip().upper() or "WARNING"
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"LOCAL_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        return cls(
            aws_port=_int(environ, "LOCAL_AWS_PORT", 5000, 0, 65535),
            api_port=_int(environ, "LOCAL_API_PORT", 8080, 0, 65535),
            api_key=api_key or secrets.token_urlsafe(30),
            api_key_generated=not api_key,
            seed_merchants=_bool(environ, "LOCAL_SEED", True),
            retry_visibility_seconds=_int(environ, "LOCAL_RETRY_VISIBILITY_SECONDS", 2, 0, 43_200),
            log_level=level,
            access_log=_bool(environ, "LOCAL_ACCESS_LOG", True),
            ready_file=environ.get("LOCAL_READY_FILE", "").strip(),
            faults=FaultConfig(
                rate=_float(environ, "LOCAL_FAULT_RATE", 0.0, 0.0, 1.0),
                services=services,
                seed=_int(environ, "LOCAL_FAULT_SEED", 0, 0, 2**63) if seed_raw else None,
            ),
        )
