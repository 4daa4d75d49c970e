"""The context object Lambda passes to a Python handler: what Powertools and the handlers read of it.

One class for the local runtime, the tests and the benchmarks.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    deadline_ms: int = 0  # epoch milliseconds when the invocation times out

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))

    @classmethod
    def for_invocation(
        cls,
        function_name: str,
        *,
        memory_mb: int,
        timeout_seconds: float,
        region: str = "us-east-2",
        request_id: str | None = None,
    ) -> LambdaContext:
        """The context of one invocation of ``function_name``, starting now."""
        request_id = request_id or str(uuid.uuid4())
        return cls(
            function_name=function_name,
            memory_limit_in_mb=memory_mb,
            invoked_function_arn=function_arn(region, function_name),
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{function_name}",
            log_stream_name=f"local/[$LATEST]{request_id.replace('-', '')}",
            deadline_ms=int((time.time() + timeout_seconds) * 1000),
        )


def function_arn(region: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
