"""The stack's Lambda functions, run like Lambda runs them: in execution environments.

An execution environment is a process of its own (``local.worker``) whose environment variables are the
function's (from the synthesized stack, references resolved to local values) plus Lambda's runtime
variables. It imports the handler once and runs one invocation at a time. A function scales out to up
to ``concurrency`` environments when every existing one is busy, so concurrent invocations never share a
process, as in Lambda. Beyond the function's reserved concurrency, Lambda throttles: an invocation
raises ``FunctionThrottled`` (Lambda's 429) instead of waiting. An invocation that outlives the
function's timeout is stopped with its environment. Each environment's stdout (the function's logs and
EMF metrics) goes to ``output``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.config import FaultConfig
from local.lambda_context import LambdaContext
from local.stack import FunctionSpec

ROOT = Path(__file__).resolve().parent.parent
INIT_TIMEOUT_SECONDS = 60  # Lambda allows 10 s of init; a cold interpreter on a loaded CI machine is slower

Output = Callable[[str, str], None]  # (function name, line)
Usage = Callable[[Mapping[str, int], Mapping[str, int]], None]  # (AWS requests, injected faults)


class FunctionError(Exception):
    """An invocation failed: the handler raised, timed out, or its environment died. ``requests`` and
    ``faults`` count what the invocation did before it failed."""

    def __init__(
        self, message: str, requests: Mapping[str, int] | None = None, faults: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(message)
        self.requests = requests or {}
        self.faults = faults or {}


class ExecutionEnvironment:
    """One worker process running ``spec``'s handler."""

    def __init__(
        self, spec: FunctionSpec, environment: Mapping[str, str], faults: FaultConfig, output: Output
    ) -> None:
        self.spec = spec
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(  # noqa: S603 - our own module, arguments built here
            [sys.executable, "-m", "local.worker", spec.handler, str(theirs.fileno()), faults.to_json()],
            cwd=ROOT,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,  # Ctrl-C stops the runtime, which stops its environments
        )
        theirs.close()
        self._connection = Connection(ours.detach())
        self._lines: list[str] = []
        self._reader = threading.Thread(
            target=self._read_output, args=(output,), name=f"output-{spec.function_name}", daemon=True
        )
        self._reader.start()
        self.pid = self._initialise()

    def _read_output(self, output: Output) -> None:
        assert self._process.stdout is not None
        for raw in iter(self._process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._lines = [*self._lines[-20:], line]
            output(self.spec.function_name, line)

    def _initialise(self) -> int:
        try:
            if not self._connection.poll(INIT_TIMEOUT_SECONDS):
                raise EOFError("timed out")
            kind, detail = self._connection.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            tail = "\n".join(self._lines)
            raise RuntimeError(f"{self.spec.function_name} did not start ({exc}):\n{tail}") from None
        if kind == "init_error":
            self.stop()
            raise ValueError(detail)
        return int(detail)

    def invoke(
        self, event: Any, context: LambdaContext, outage_origin: float | None = None
    ) -> tuple[Any, Mapping[str, int], Mapping[str, int]]:
        """(result, AWS requests, injected faults) of one invocation; raises FunctionError."""
        timeout = self.spec.timeout_seconds
        try:
            self._connection.send(("invoke", event, context, outage_origin))
            if not self._connection.poll(timeout):
                self.stop()
                raise FunctionError(f"Task timed out after {timeout:.2f} seconds")
            reply = self._connection.recv()
        except (EOFError, OSError) as exc:
            self.stop()
            raise FunctionError(f"the execution environment exited ({type(exc).__name__})") from None
        kind, *detail = reply
        if kind == "ok":
            result, requests, faults = detail
            return result, requests, faults
        message, trace, requests, faults = detail
        error = FunctionError(message, requests, faults)
        error.add_note(trace)
        raise error

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        self._connection.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class FunctionThrottled(Exception):
    """Lambda's 429 TooManyRequestsException: the function's reserved concurrency is in use."""


class LocalFunction:
    """One function of the stack and its execution environments."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        *,
        region: str,
        concurrency: int,
        faults: FaultConfig,
        output: Output,
        usage: Usage,
    ) -> None:
        self.spec = spec
        self.environment = dict(environment)
        self._region = region
        self._concurrency = concurrency
        self._faults = faults
        self._output = output
        self._usage = usage
        self._idle: list[ExecutionEnvironment] = []
        self._count = 0  # environments running or starting
        self._in_flight = 0  # invocations running or waiting for an environment
        self._started = 0
        self._stopped = False
        self._changed = threading.Condition()
        self.outage_origin: float | None = None  # when the runtime was ready (scripted outages count from it)
        self.invocations = 0
        self.errors = 0
        self.throttles = 0

    @property
    def name(self) -> str:
        return self.spec.function_name

    @property
    def environments(self) -> int:
        """Execution environments started so far (a measure of the concurrency the function saw)."""
        return self._started

    def start(self) -> None:
        """Start one environment now, so a bad handler or environment fails at start-up."""
        with self._changed:
            self._count += 1
        self._release(self._new_environment())

    def _new_environment(self) -> ExecutionEnvironment:
        with self._changed:
            index = self._started
            self._started += 1
        faults = self._faults
        if faults.seed is not None:  # a different, reproducible fault sequence per environment
            faults = FaultConfig(faults.rate, faults.services, faults.seed + index, faults.outages)
        try:
            return ExecutionEnvironment(self.spec, self.environment, faults, self._output)
        except BaseException:
            with self._changed:
                self._count -= 1
                self._changed.notify()
            raise

    def _acquire(self) -> ExecutionEnvironment:
        with self._changed:
            while not self._idle and self._count >= self._concurrency:
                self._changed.wait()
            if self._idle:
                return self._idle.pop()  # the most recently used: warm caches, like Lambda's reuse
            self._count += 1
        return self._new_environment()

    def _release(self, environment: ExecutionEnvironment) -> None:
        with self._changed:
            keep = environment.alive and not self._stopped
            if keep:
                self._idle.append(environment)
            else:
                self._count -= 1
            self._changed.notify()
        if not keep:
            environment.stop()

    def invoke(self, event: Any) -> Any:
        """Run the handler in a free environment; raises FunctionError (callers apply Lambda's error
        semantics), or FunctionThrottled when the reserved concurrency is in use."""
        reserved = self.spec.reserved_concurrency
        with self._changed:
            if reserved is not None and self._in_flight >= reserved:
                self.throttles += 1
                raise FunctionThrottled(f"{self.name}: Rate Exceeded (reserved concurrency {reserved})")
            self._in_flight += 1
        try:
            return self._invoke(event)
        finally:
            with self._changed:
                self._in_flight -= 1

    def _invoke(self, event: Any) -> Any:
        context = LambdaContext.for_invocation(
            self.name,
            memory_mb=self.spec.memory_mb,
            timeout_seconds=self.spec.timeout_seconds,
            region=self._region,
            request_id=str(uuid.uuid4()),
        )
        environment = self._acquire()
        with self._changed:
            self.invocations += 1
        try:
            result, requests, faults = environment.invoke(event, context, self.outage_origin)
        except FunctionError as exc:
            with self._changed:
                self.errors += 1
            self._usage(exc.requests, exc.faults)
            raise
        finally:
            self._release(environment)
        self._usage(requests, faults)
        return result

    def stop(self) -> None:
        """Stop the idle environments now, the busy ones when their invocation ends."""
        with self._changed:
            self._stopped = True
            idle, self._idle = self._idle, []
        for environment in idle:
            environment.stop()
