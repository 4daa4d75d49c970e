"""One execution environment of a Lambda function: a process of its own, started by ``local.functions``.

As in Lambda, the process environment is the function's (its variables from the stack plus the runtime's
``AWS_LAMBDA_*`` ones), the handler module is imported once, then invocations run one at a time; stdout
carries the function's logs and EMF metrics. Requests come over the socket passed as ``fd``:
``("invoke", event, context, outage_origin)``; each reply carries the result (or the error) and the AWS
requests and injected faults of that invocation.

``python -m local.worker HANDLER FD FAULTS_JSON``
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from local.config import FaultConfig
from local.faults import FaultInjector
from local.request_counter import RequestCounter


def _check_settings(handler: str) -> None:
    """Fail at start-up, like a misconfigured function's first invocation, when a function of the
    catalog gets a bad environment."""
    from card_transactions.handlers.runtime_settings import SETTINGS_OF
    from card_transactions.settings.system import FUNCTIONS

    for function in FUNCTIONS:
        if function.handler == handler:
            SETTINGS_OF[function].from_env(os.environ)


def serve(handler_path: str, connection: Connection, faults: FaultConfig) -> int:
    import boto3

    # The handlers' clients come from the default session: count and (for tests) fail their requests.
    boto3.setup_default_session()
    requests = RequestCounter()
    requests.install(boto3.DEFAULT_SESSION.events)
    injector = FaultInjector(faults) if faults.enabled else None
    if injector is not None:
        injector.install(boto3.DEFAULT_SESSION.events)
    try:
        module_name, _, attribute = handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        _check_settings(handler_path)
    except Exception as exc:
        connection.send(("init_error", f"{handler_path}: {exc}"))
        return 1
    connection.send(("ready", os.getpid()))
    while True:
        try:
            _, event, context, origin = connection.recv()
        except EOFError:  # the runtime closed this environment
            return 0
        if injector is not None:
            injector.origin = origin
        reply: tuple[Any, ...]
        try:
            reply = ("ok", handler(event, context))
        except Exception as exc:
            reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        sys.stdout.flush()
        fault_counts = injector.take() if injector is not None else {}
        connection.send((*reply, requests.take(), fault_counts))


def main(argv: list[str]) -> int:
    handler_path, fd, faults = argv
    with Connection(int(fd)) as connection:
        return serve(handler_path, connection, FaultConfig.from_json(faults))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
