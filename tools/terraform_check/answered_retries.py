"""A retried call that moto already answered gets that answer again instead of running twice.

Seen on loaded machines: moto logs a request as answered (``200``, response written, the client closing its
end right after), yet the provider's SDK treats the attempt as failed and retries it some 100 ms later:
``CreateTable``, ``CreateFlowLogs``, ``UpdateAccount``, ``GetQueueAttributes``, about one call in a thousand.
A retried read is harmless; a retried create is not, since moto, unlike AWS for most creates, has no
idempotency: the second ``CreateTable`` fails with ``ResourceInUseException`` (``FlowLogAlreadyExists``,
...) and the apply fails although the resource exists once.

The AWS SDKs mark every attempt of one call with the same ``amz-sdk-invocation-id`` and number them in
``amz-sdk-request: attempt=N; max=M``. ``AnsweredRetryReplay`` keeps the last successful (2xx) answers by
invocation id and answers a later attempt of an answered call with it. A call whose first answer was an
error (throttling, a 5xx, a 4xx) is run again, as against AWS.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

Answer = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

KEPT_ANSWERS = 4096  # the SDK retries within seconds; a terraform apply makes about 2,000 calls
ATTEMPT = re.compile(r"attempt=(\d+)")

log = logging.getLogger(__name__)


class AnsweredRetryReplay:
    """WSGI middleware: ``AnsweredRetryReplay(moto_app)``."""

    def __init__(self, app: WsgiApp, kept: int = KEPT_ANSWERS) -> None:
        self.app = app
        self.kept = kept
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation:
            return self.app(environ, start_response)
        attempt = _attempt(environ)
        if attempt > 1:
            with self._lock:
                answer = self._answers.get(invocation)
            if answer is not None:
                log.warning("answered attempt %d of %s again", attempt, _operation(environ))
                return _respond(answer, start_response)
        answer = _call(self.app, environ)
        if answer[0].startswith("2"):
            with self._lock:
                self._answers[invocation] = answer
                while len(self._answers) > self.kept:
                    self._answers.popitem(last=False)
        return _respond(answer, start_response)


def _attempt(environ: dict[str, Any]) -> int:
    found = ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(found.group(1)) if found else 1


def _operation(environ: dict[str, Any]) -> str:
    return str(
        environ.get("HTTP_X_AMZ_TARGET") or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
    )


def _call(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=status, headers=headers)

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return started["status"], list(started["headers"]), content


def _respond(answer: Answer, start_response: StartResponse) -> list[bytes]:
    status, headers, content = answer
    start_response(status, headers)
    return [content]
