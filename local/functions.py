"""The stack's Lambda functions run in this process: one warm "container" per function.

A function is its handler string (``handlers.validation.handler``) and its environment variables from the
synthesized stack, references resolved to local values. The handler module is imported once; its
settings are built from *that function's* environment (not the process's) and passed to the module's
``wire()``, so each function sees exactly the variables the stack gives it. Invocations of one function
are serialised, like a single Lambda container: the handler modules keep per-invocation state.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from handlers.runtime_settings import SETTINGS_OF
from local.aws import function_arn
from local.stack import FunctionSpec
from settings.catalog import FUNCTIONS


class LocalContext:
    """The LambdaContext attributes Powertools and the handlers read."""

    def __init__(self, spec: FunctionSpec, region: str) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(region, spec.function_name)
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], region: str) -> None:
        module_name, _, attribute = spec.handler.rpartition(".")
        self.spec = spec
        self.environment = dict(environment)
        self._region = region
        self._module = importlib.import_module(module_name)
        self._handler = getattr(self._module, attribute)
        self._lock = threading.Lock()
        self.invocations = 0
        self.errors = 0
        function = next((f for f in FUNCTIONS if f.handler == spec.handler), None)
        if function is None:
            raise ValueError(f"{spec.handler} is not a function of settings.catalog.FUNCTIONS")
        # Clients are created here, after the fault hooks are registered on the default session.
        self._module.wire(SETTINGS_OF[function].from_env(self.environment))

    @property
    def name(self) -> str:
        return self.spec.function_name

    def invoke(self, event: Any) -> Any:
        """Run the handler; exceptions propagate (the caller applies Lambda's error semantics)."""
        with self._lock:
            self.invocations += 1
            try:
                return self._handler(event, LocalContext(self.spec, self._region))
            except Exception:
                self.errors += 1
                raise
