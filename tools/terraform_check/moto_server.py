"""moto in server mode, in a process of its own, on a free port of 127.0.0.1.

Its own process keeps its state and settings (``MOTO_IAM_LOAD_MANAGED_POLICIES``) away from the tests'
in-process moto, and lets the kernel choose the port (``python -m tools.terraform_check.moto_server`` prints
it), so parallel test workers never collide. Plain HTTP: serving TLS (moto ``--ssl``) would change nothing
for these stacks, since moto ignores the ``aws:SecureTransport`` condition either way (see ``moto_gaps``).
A retried call moto already answered gets that answer again (``answered_retries``).
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
# AWS-managed policies (AWSLambdaVPCAccessExecutionRole, ...) exist only when moto loads them.
SETTINGS = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


class MotoServer:
    """``with MotoServer(log) as moto:`` ... ``moto.endpoint`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.endpoint = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> MotoServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tools.terraform_check.moto_server"],
                cwd=ROOT,
                env={**os.environ, **SETTINGS},
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_SECONDS)
        port = self._process.stdout.readline().strip() if ready else ""
        if not port.isdigit():
            self.stop()
            raise RuntimeError(f"moto server did not start; see {self.log_path}")
        self.endpoint = f"http://{HOST}:{port}"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._process = None


def main() -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from tools.terraform_check.answered_retries import AnsweredRetryReplay

    logging.basicConfig(level=logging.WARNING)  # to stderr, the server's log file
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request; errors still logged
    server = make_server(
        HOST,
        0,
        AnsweredRetryReplay(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
