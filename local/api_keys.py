"""The gateway's view of API keys: which key value is in which client's usage plan, read from API
Gateway (moto) like the deployed stage does, so that a key ``python -m tools.clients`` creates against the
local runtime is admitted at once (an unknown value re-reads the view) and one it revokes is refused
within ``REFRESH_SECONDS``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

REFRESH_SECONDS = 0.5  # how stale the view may be (API Gateway also applies key changes within seconds)


@dataclass(frozen=True)
class AdmittedKey:
    key_id: str
    client: str


class KeyLookup:
    def __init__(
        self,
        apigateway: Any,
        plan_ids: Mapping[str, str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._apigateway = apigateway
        self._plan_ids = dict(plan_ids)  # client -> usage plan id
        self._clock = clock
        self._keys: dict[str, AdmittedKey] = {}
        self._read_at = -1e9
        self._lock = threading.Lock()

    def find(self, value: str) -> AdmittedKey | None:
        """The enabled key with this value in one of the clients' usage plans, or None."""
        with self._lock:
            if self._clock() - self._read_at > REFRESH_SECONDS or value not in self._keys:
                self._keys = self._read()
                self._read_at = self._clock()
            return self._keys.get(value)

    def _read(self) -> dict[str, AdmittedKey]:
        enabled = {
            key["id"]
            for page in self._apigateway.get_paginator("get_api_keys").paginate()
            for key in page.get("items", [])
            if key.get("enabled", True)
        }
        found: dict[str, AdmittedKey] = {}
        for client, plan_id in self._plan_ids.items():
            pages = self._apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan_id)
            for page in pages:
                for key in page.get("items", []):
                    if key["id"] in enabled:
                        found[key["value"]] = AdmittedKey(key["id"], client)
        return found
