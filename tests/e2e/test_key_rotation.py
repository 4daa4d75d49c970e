"""A client's key rotates while it keeps submitting, with no failed request: ``python -m tools.clients``
against the local runtime (moto's API Gateway and DynamoDB), as an operator runs it against AWS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from local.driver import ROOT, Runtime, start_runtime, stop_runtime, transaction, wait_for

OLD_KEY = "acme-first-key-0123456789"


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-rotation"),
        API_CLIENTS="acme,globex",
        LOCAL_API_CLIENTS=f"acme={OLD_KEY}",
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


def clients_command(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "API_", "ENVIRONMENT"))}
    return subprocess.run(
        [sys.executable, "-m", "tools.clients", "--endpoint-url", runtime.info["aws_endpoint"], *args],
        cwd=ROOT,
        env={**environ, "AWS_REGION": "us-east-2", "API_CLIENTS": "acme,globex"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class Submitter(threading.Thread):
    """Submits transactions one after another with whatever key it holds, recording every status."""

    def __init__(self, runtime: Runtime, merchant_id: str, key: str) -> None:
        super().__init__(daemon=True)
        self.runtime, self.merchant_id, self.key = runtime, merchant_id, key
        self.statuses: list[tuple[str, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            key = self.key
            response = self.runtime.post(transaction(self.merchant_id), key=key)
            self.statuses.append((key, response.status))

    def sent_with(self, key: str) -> int:
        return sum(1 for k, _ in self.statuses if k == key)


def test_a_key_rotates_under_load_with_no_failed_request(acme: Runtime) -> None:
    # GIVEN acme's merchant, bound to acme by the command (a conditional write on the merchant)
    merchant_id = acme.put_merchant("Acme Stores", clients=("globex",))
    bound = clients_command(acme, "bind", "acme", merchant_id)
    assert bound.returncode == 0, bound.stderr
    refused = clients_command(acme, "bind", "initech", merchant_id)
    assert refused.returncode == 2 and "unknown client 'initech'" in refused.stderr
    submitter = Submitter(acme, merchant_id, OLD_KEY)
    submitter.start()
    wait_for(lambda: submitter.sent_with(OLD_KEY) >= 20, 30, what="submissions with the first key")

    # WHEN the key rotates: a new key, printed once; both keys work through the grace period
    rotated = clients_command(acme, "rotate", "acme", "--grace-hours", "0")
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.strip()
    assert len(new_key) >= 20 and new_key not in rotated.stderr
    assert acme.post(transaction(merchant_id), key=OLD_KEY).status == 202
    assert acme.post(transaction(merchant_id), key=new_key).status == 202
    # ... the client deploys the new key, then the operator finishes the rotation
    submitter.key = new_key
    wait_for(lambda: submitter.sent_with(new_key) >= 20, 30, what="submissions with the new key")
    finished = clients_command(acme, "finish-rotation", "acme")
    assert finished.returncode == 0, finished.stderr
    time.sleep(1)  # the gateway re-reads the keys within half a second, like API Gateway within seconds
    count = len(submitter.statuses)
    wait_for(lambda: len(submitter.statuses) >= count + 20, 30, what="submissions after the rotation")
    submitter.stopped.set()
    submitter.join(30)

    # THEN no request failed, and the old key is refused from then on
    failed = [(key == new_key, status) for key, status in submitter.statuses if status != 202]
    assert failed == [], f"(with the new key?, status) of the failed requests: {failed}"
    assert submitter.sent_with(OLD_KEY) >= 20 and submitter.sent_with(new_key) >= 40
    response = acme.post(transaction(merchant_id), key=OLD_KEY)
    assert (response.status, response.body["error"]["code"]) == (403, "INVALID_API_KEY")
    # AND the command lists the client's keys (ids and states, never values) and its merchants
    listed = clients_command(acme, "list")
    assert listed.returncode == 0 and OLD_KEY not in listed.stdout and new_key not in listed.stdout
    described = {c["client"]: c for c in json.loads(listed.stdout)}
    assert sorted(k["state"] for k in described["acme"]["keys"]) == ["active", "revoked"]
    assert described["acme"]["merchants"] == [merchant_id]
    assert described["globex"]["merchants"] == [merchant_id] and described["globex"]["keys"]
