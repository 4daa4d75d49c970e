"""Random failures and scripted outages of the handlers' AWS calls, and of the event bus's deliveries,
injected through botocore's event hooks (tests only).

Registered on the boto3 default session, which the handlers' clients come from, and on the clients the
event bus delivers to its targets with (``local.runtime``); the runtime's other clients never fail.
Each call to a selected service fails with probability ``rate``, in one of three ways:

* ``throttle`` / ``5xx`` (``before-call``): the call never reaches moto and the client raises at once, as
  if botocore's own retries were exhausted;
* ``lost`` (``after-call``): the call was applied by moto but the client sees a 500, the ambiguous case
  a conditional write must survive.

An outage window (``LOCAL_OUTAGE``) fails every call to its services from its start to its end, counted
in seconds from ``origin``, the moment the runtime was ready (set by the runtime with each invocation;
no outage applies before it is known).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from local.config import FaultConfig
from local.request_counter import Tally

_THROTTLE = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "sns": "Throttling",
    "sqs": "RequestThrottled",
}
_SERVER = {"dynamodb": "InternalServerError", "sns": "InternalError", "sqs": "InternalError"}
KINDS = ("throttle", "5xx", "lost")


class _Response:
    """The part of an HTTP response botocore's client reads after ``before-call``."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


def _error(code: str, status: int, operation: str) -> dict[str, Any]:
    return {
        "Error": {"Code": code, "Message": f"injected by the local runtime ({operation})"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
    }


class FaultInjector(Tally):
    def __init__(self, config: FaultConfig, clock: Any = time.time) -> None:
        super().__init__()
        self.config = config
        self.origin: float | None = None  # wall-clock time the runtime was ready
        self._clock = clock
        self._random = random.Random(config.seed)
        self._draw_lock = threading.Lock()

    def install(self, events: Any) -> None:
        if self.config.rate > 0:
            for service in self.config.services:
                events.register(f"before-call.{service}", self._before_call)
                events.register(f"after-call.{service}", self._after_call)
        outage_services = sorted({s for window in self.config.outages for s in window.services})
        for service in outage_services:
            events.register_first(f"before-call.{service}", self._outage)

    def in_outage(self, service: str) -> bool:
        if self.origin is None:
            return False
        elapsed = self._clock() - self.origin
        return any(window.covers(service, elapsed) for window in self.config.outages)

    def _outage(self, model: Any, **_: Any) -> Any:
        service = model.service_model.service_id.hyphenize()
        if not self.in_outage(service):
            return None
        self._count(service, model.name, "outage")
        return _Response(500), _error(_SERVER[service], 500, model.name)

    def _draw(self) -> str | None:
        with self._draw_lock:
            if self._random.random() >= self.config.rate:
                return None
            return self._random.choice(KINDS)

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        kind = self._draw()
        service = model.service_model.service_id.hyphenize()
        if kind is None:
            return None
        if kind == "lost":
            context["local_fault_lost"] = True
            return None
        code, status = (_THROTTLE[service], 400) if kind == "throttle" else (_SERVER[service], 500)
        self._count(service, model.name, kind)
        return _Response(status), _error(code, status, model.name)

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict, **_: Any):
        if not context.pop("local_fault_lost", False) or http_response.status_code >= 300:
            return
        service = model.service_model.service_id.hyphenize()
        self._count(service, model.name, "lost")
        http_response.status_code = 500
        parsed.update(_error(_SERVER[service], 500, model.name))

    def _count(self, service: str, operation: str, kind: str) -> None:
        self.add({f"{service}:{operation}:{kind}": 1})
