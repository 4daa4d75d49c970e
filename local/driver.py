"""Driving the local runtime from outside, as a client does: ``python -m local`` in a subprocess on free
ports, then HTTP (http.client) and boto3 only. The end-to-end tests and the benchmarks share it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from card_transactions.handlers.domain.merchant import CLIENTS_ATTRIBUTE
from card_transactions.settings.catalog import Settings
from local.aws import CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "e2e-local-api-key-0123456789"
STARTUP_SECONDS = 180  # includes a first synth on a fresh machine
TERMINAL = ("APPROVED", "REVIEW_REQUIRED", "FRAUD_SUSPECTED", "FAILED")
_deserializer = TypeDeserializer()


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_while_progressing(
    poll: Callable[[], tuple[int, Any]], stall: float, interval: float = 0.5, what: str = "condition"
) -> Any:
    """Poll ``poll`` (progress count, result) until the result is truthy; fail only when the count has
    not grown for ``stall`` seconds: a slow machine gets the time it needs, a stuck pipeline still fails."""
    best, deadline = -1, 0.0
    while True:
        count, result = poll()
        if result:
            return result
        if count > best:
            best, deadline = count, time.monotonic() + stall
        elif time.monotonic() > deadline:
            raise AssertionError(f"no progress for {stall} s (at {best}) waiting for {what}")
        time.sleep(interval)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Runtime:
    """A running `python -m local` and clients for it."""

    process: subprocess.Popen
    info: dict[str, Any]
    log_path: Path
    _alerts: list[dict[str, Any]] = field(default_factory=list)

    # --- HTTP ----------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = API_KEY,
        headers: Mapping[str, str] | None = None,
        base: str | None = None,
    ) -> Response:
        url = urlsplit((base or self.info["api_url"]) + path)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        data = body if isinstance(body, str | bytes) or body is None else as_json(body)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            sent["x-api-key"] = key
        try:
            connection.request(
                method, url.path + (f"?{url.query}" if url.query else ""), body=data, headers=sent
            )
            raw = connection.getresponse()
            payload = raw.read()
            response_headers = {k.lower(): v for k, v in raw.getheaders()}
        finally:
            connection.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode("utf-8", "replace")
        return Response(raw.status, response_headers, parsed)

    def post(self, body: Any, **kwargs: Any) -> Response:
        return self.request("POST", "/transaction", body, **kwargs)

    def get(self, transaction_id: str, **kwargs: Any) -> Response:
        return self.request("GET", f"/transaction/{transaction_id}", **kwargs)

    def status(self) -> dict[str, Any]:
        root = self.info["api_url"].rsplit("/", 1)[0]
        return self.request("GET", "/_local/status", base=root, key=None).body

    def wait_final(self, transaction_id: str, timeout: float = 20) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            got = self.get(transaction_id)
            return got.body if got.status == 200 and got.body["status"] in TERMINAL else None

        return wait_for(final, timeout, what=f"{transaction_id} to reach a terminal state")

    # --- AWS -----------------------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return boto3.session.Session(region_name=self.info["region"], **CREDENTIALS).client(
            service,
            endpoint_url=self.info["aws_endpoint"],
            config=Config(retries={"mode": "standard", "max_attempts": 8}),
        )

    def table(self, base: str) -> str:
        return next(t for t in self.info["tables"] if t.startswith(base))

    def queue_url(self, base: str) -> str:
        return next(url for name, url in self.info["queues"].items() if name.startswith(base))

    def put_merchant(
        self,
        name: str,
        *,
        active: bool = True,
        limit: str = "10000",
        merchant_id: str = "",
        clients: tuple[str, ...] = (),
    ) -> str:
        """Write a merchant item; ``clients``: the API clients bound to it (a string set, as on AWS)."""
        merchant_id = merchant_id or f"m_{uuid.uuid4().hex[:12]}"
        item = {
            "merchant_id": {"S": merchant_id},
            "name": {"S": name},
            "active": {"BOOL": active},
            "max_transaction_amount": {"N": limit},
        }
        if clients:
            item[CLIENTS_ATTRIBUTE] = {"SS": list(clients)}
        self.client("dynamodb").put_item(TableName=self.table("merchant-config"), Item=item)
        return merchant_id

    def record(self, transaction_id: str) -> dict[str, Any] | None:
        item = (
            self.client("dynamodb")
            .get_item(
                TableName=self.table("processed-transactions"),
                Key={"transaction_id": {"S": transaction_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return {k: _deserializer.deserialize(v) for k, v in item.items()} if item else None

    def scan(self) -> list[dict[str, Any]]:
        pages = (
            self.client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=self.table("processed-transactions"))
        )
        return [
            {k: _deserializer.deserialize(v) for k, v in item.items()}
            for page in pages
            for item in page["Items"]
        ]

    def queue_depth(self, base: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url(base),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert delivered to the inbox queue so far (drained and kept, so tests can share it)."""
        sqs = self.client("sqs")
        url = self.info["alerts_inbox_url"]
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return list(self._alerts)
            for message in messages:
                envelope = json.loads(message["Body"])
                self._alerts.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def alerts_about(self, transaction_id: str) -> list[dict[str, Any]]:
        return [a for a in self.alerts() if a.get("transaction_id") == transaction_id]

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def runtime_environment(tmp: Path, **overrides: str) -> dict[str, str]:
    """A clean environment: no setting or AWS variable of the developer's shell leaks into the runtime."""
    blocked = set(Settings.variables())
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in blocked and not k.startswith(("AWS_", "LOCAL_", "POWERTOOLS_", "CDKTF_"))
    }
    env.update(
        LOCAL_AWS_PORT="0",
        LOCAL_API_PORT="0",
        LOCAL_API_KEY=API_KEY,
        LOCAL_READY_FILE=str(tmp / "ready.json"),
        LOCAL_RETRY_VISIBILITY_SECONDS="1",  # a failed record returns as quickly as the tests need
        LOCAL_ACCESS_LOG="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def start_runtime(tmp: Path, **overrides: str) -> Runtime:
    tmp.mkdir(parents=True, exist_ok=True)
    env = runtime_environment(tmp, **overrides)
    log_path = tmp / "runtime.log"
    ready = Path(env["LOCAL_READY_FILE"])
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + STARTUP_SECONDS
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the local runtime did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.1)
    return Runtime(process, json.loads(ready.read_text()), log_path)


def stop_runtime(runtime: Runtime) -> None:
    runtime.process.send_signal(signal.SIGTERM)
    try:
        runtime.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        runtime.process.kill()
        runtime.process.wait()
        raise AssertionError(f"the local runtime ignored SIGTERM:\n{runtime.log()[-4000:]}") from None


def transaction(
    merchant_id: str, amount: str = "100.00", currency: str = "USD", **extra: Any
) -> dict[str, Any]:
    return {
        "transaction_id": f"txn_{uuid.uuid4().hex[:16]}",
        "merchant_id": merchant_id,
        "amount": Decimal(amount),
        "currency": currency,
        **extra,
    }


def as_json(body: Mapping[str, Any]) -> str:
    """JSON with Decimal amounts written exactly (1500.00 stays 1500.00)."""
    parts = [f"{json.dumps(k)}: {v if isinstance(v, Decimal) else json.dumps(v)}" for k, v in body.items()]
    return "{" + ", ".join(parts) + "}"
