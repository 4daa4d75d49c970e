"""An independent client fuzzes the API from docs/openapi.json: schemathesis against the local runtime,
every check on, a fixed seed, bounded examples, stateful links from POST to GET (tests/e2e/
schemathesis_hooks.py and schemathesis.toml say what is adapted, and why)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from local.driver import API_KEY, ROOT, Runtime

HERE = Path(__file__).resolve().parent
SEED = 20261127
MAX_EXAMPLES = 30  # per operation and phase: the run stays well under a minute


def test_schemathesis_finds_no_failure_with_every_check(runtime: Runtime, tmp_path: Path) -> None:
    # GIVEN the running API, the sample merchants seeded, and the document it serves
    api = runtime.info["api_url"]
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{api}/openapi.json",
        "--url",
        api,
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--header",
        f"x-api-key: {API_KEY}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    # WHEN schemathesis generates and sends the requests
    done = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    # THEN no check fails, and the stateful phase followed POST's link to GET
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-8000:]
    print(output[-3000:])
    assert "POST /transaction -> GET /transaction/{transaction_id}" in output or "Stateful" in output, output[
        -4000:
    ]
