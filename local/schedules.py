"""EventBridge Scheduler, emulated: invoke a function of the stack on a fixed period.

The deployed schedule runs every few minutes (``RECONCILE_EVERY_MINUTES``); locally it runs every
``LOCAL_SCHEDULE_SECONDS`` so that recovery is visible within a test. Like an asynchronous invocation,
a failed run is reported (printed) and the next period runs again.
"""

from __future__ import annotations

import sys
import threading

from local.functions import LocalFunction
from local.stack import ScheduleSpec

EVENT = {"source": "scheduler"}


class LocalSchedule:
    def __init__(
        self, spec: ScheduleSpec, function: LocalFunction, period_seconds: float, stop: threading.Event
    ) -> None:
        self.spec = spec
        self.function = function
        self._period = period_seconds
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name=f"schedule-{spec.name}", daemon=True)
        self.runs = 0
        self.failed = 0

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.function.invoke(dict(EVENT))
            except Exception as exc:  # an async invocation: the error is the function's own report
                self.failed += 1
                if not self._stop.is_set():
                    print(f"[schedule] {self.spec.name}: {exc}", file=sys.stderr, flush=True)
            finally:
                self.runs += 1
