"""A Lambda handler for the tests of the local runtime's execution environments.

``seen`` is module state: an environment keeps it from one invocation to the next, like a warm Lambda
container, and no other environment ever sees it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

seen: list[str] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    seen.append(event["id"])
    if "rendezvous" in event:  # wait until every party has arrived: only concurrent invocations get past
        directory = Path(event["rendezvous"])
        (directory / event["id"]).touch()
        deadline = time.monotonic() + 20
        while len(list(directory.iterdir())) < event["parties"]:
            if time.monotonic() > deadline:
                raise TimeoutError("the other invocations never ran alongside this one")
            time.sleep(0.01)
    if "print" in event:
        print(event["print"])
    if "fail" in event:
        raise RuntimeError(event["fail"])
    time.sleep(event.get("sleep", 0))
    return {
        "id": event["id"],
        "pid": os.getpid(),
        "seen": list(seen),
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "marker": os.environ.get("MARKER"),
        "home": os.environ.get("HOME"),
    }
