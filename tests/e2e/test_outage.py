"""Scripted outages. A 60 s DynamoDB outage in the middle of 300 transactions: every accepted transaction
ends in the decision its fraud rules give (the reconciler re-drives what got stuck, through the table's
stream), every suspected one is alerted, nothing stays pending, and the outage shows in the metrics. An
SQS outage fails no submission: the stream enqueues each one once SQS is back."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from card_transactions.handlers.domain.fraud import ScoringInput, assess
from local.aws import CREDENTIALS
from local.driver import ROOT, Runtime, start_runtime, stop_runtime, wait_for

TRANSACTIONS = 300
CLIENTS = 6
OUTAGE_START, OUTAGE_SECONDS = 6, 60
SUBMIT_INTERVAL = 0.04  # the 300 submissions are spread over 12 s: half of them before the outage
MERCHANTS = {"clean": "Acme Stores", "suspicious": "Fake Goods Ltd"}


def runtime_with_outage(factory: pytest.TempPathFactory, name: str, outage: str) -> Iterator[Runtime]:
    """A runtime of its own with the scripted ``outage`` (``LOCAL_OUTAGE``), unseeded, whose reconciler
    runs every 2 s and re-drives what is pending 5 s."""
    started = start_runtime(
        factory.mktemp(name),
        LOCAL_OUTAGE=outage,
        LOCAL_SEED="false",
        LOCAL_SCHEDULE_SECONDS="2",
        LOCAL_RECONCILE_AFTER_SECONDS="5",
    )
    yield started
    stop_runtime(started)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    yield from runtime_with_outage(
        tmp_path_factory, "local-outage", f"dynamodb@{OUTAGE_START}+{OUTAGE_SECONDS}"
    )


def _plan(merchants: dict[str, str], i: int) -> tuple[dict[str, Any], str]:
    """Transaction i and the status the fraud rules give it (computed by the rules themselves)."""
    kind = ("clean", "suspicious")[i % 2]
    amount, currency = [
        (Decimal(100 + i) + Decimal("0.25"), "USD"),  # clean: APPROVED; suspicious name: REVIEW_REQUIRED
        (Decimal(6000), "JPY"),  # > 5000, round, unusual currency: FRAUD_SUSPECTED either way
        (Decimal(2000), "EUR"),  # round only: APPROVED; suspicious name: FRAUD_SUSPECTED
    ][i % 3]
    body = {
        "transaction_id": f"txn_o_{i}_{uuid.uuid4().hex[:6]}",
        "merchant_id": merchants[kind],
        "amount": amount,
        "currency": currency,
    }
    expected = assess(ScoringInput(amount=amount, currency=currency, merchant_name=MERCHANTS[kind])).status
    return body, expected.value


@pytest.mark.slow
def test_a_dynamodb_outage_loses_nothing_and_everything_is_scored_after_it(outage: Runtime) -> None:
    # GIVEN two merchants and 300 transactions, submitted at a steady pace from the runtime's ready time,
    # with DynamoDB failing every call of the functions from 6 s to 66 s after ready
    t0 = time.monotonic()
    merchants = {kind: outage.put_merchant(name, limit="100000") for kind, name in MERCHANTS.items()}
    plans = [_plan(merchants, i) for i in range(TRANSACTIONS)]
    unavailable = Counter[str]()
    lock = threading.Lock()

    def submit(index: int) -> tuple[str, int]:
        """A well-behaved client: retries 503s with the same body (idempotent) until it gets an answer."""
        body = plans[index][0]
        time.sleep(max(0.0, t0 + index * SUBMIT_INTERVAL - time.monotonic()))
        deadline = time.monotonic() + OUTAGE_SECONDS + 60
        while True:
            response = outage.post(body)
            if response.status != 503 or time.monotonic() > deadline:
                return body["transaction_id"], response.status
            with lock:
                unavailable[response.body["error"]["code"]] += 1
            time.sleep(0.5)

    # WHEN they are submitted through the outage
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(submit, range(TRANSACTIONS)))
    submitted = time.monotonic() - t0
    assert Counter(status for _, status in results) == {202: TRANSACTIONS}
    assert set(unavailable) == {"SERVICE_UNAVAILABLE"} and sum(unavailable.values()) > CLIENTS

    # THEN every accepted transaction ends in the decision the fraud rules give it
    expected = {body["transaction_id"]: status for body, status in plans}

    def scored() -> dict[str, dict] | None:
        records = {r["transaction_id"]: r for r in outage.scan() if r["transaction_id"] in expected}
        done = all(records.get(t, {}).get("status") == s for t, s in expected.items())
        return records if done else None

    records = wait_for(scored, 60, interval=1, what="every transaction scored as its rules say")
    settled = time.monotonic() - t0
    assert [t for t, r in records.items() if r["status"] != expected[t]] == []
    # AND nothing is pending: the records left the sparse index, and the replay command finds nothing
    assert [t for t, r in records.items() if {"pending_shard", "message"} & set(r)] == []
    replay = subprocess.run(
        [sys.executable, "-m", "tools.replay", "--older-than", "0", "--dry-run"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
            "AWS_REGION": outage.info["region"],
            "AWS_ENDPOINT_URL": outage.info["aws_endpoint"],
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(replay.stdout)["found"] == 0
    # AND an alert for every FRAUD_SUSPECTED transaction reached the inbox
    suspected = {t for t, s in expected.items() if s == "FRAUD_SUSPECTED"}
    assert len(suspected) > TRANSACTIONS // 4
    alerted = {a.get("transaction_id") for a in outage.alerts() if a.get("alert_type") == "FRAUD"}
    assert suspected - alerted == set()
    # AND the outage is visible: injected failures, the API's 503s in the metrics, failed reconciler runs
    status = outage.status()
    outage_faults = {
        k: v for k, v in status["faults"].items() if k.startswith("dynamodb:") and k.endswith(":outage")
    }
    assert outage_faults
    validation = status["metrics"]["validation-lambda-dev"]
    assert validation["TransactionsRejected{code=SERVICE_UNAVAILABLE}"] == sum(unavailable.values())
    (schedule,) = status["schedules"].values()
    assert schedule["failed"] > 0 and schedule["runs"] > schedule["failed"]
    # AND the reconciler re-drove the records left pending, by touching them: the stream enqueued them again
    assert status["metrics"]["reconciler-lambda-dev"]["TransactionsRequeued"] > 0
    enqueue = status["rules"]["transaction-alerts-dev-enqueue"]
    assert enqueue["published"] > TRANSACTIONS and enqueue["dead_lettered"] == 0
    print(
        f"\n{TRANSACTIONS} transactions through a {OUTAGE_SECONDS} s DynamoDB outage: all accepted after "
        f"{submitted:.0f} s ({sum(unavailable.values())} 503s retried), all scored after {settled:.0f} s; "
        f"{sum(outage_faults.values())} calls failed by the outage; statuses "
        f"{dict(Counter(r['status'] for r in records.values()))}"
    )


SQS_OUTAGE_SECONDS = 15
SQS_TRANSACTIONS = 20


@pytest.fixture(scope="module")
def sqs_outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    yield from runtime_with_outage(tmp_path_factory, "local-sqs-outage", f"sqs@0+{SQS_OUTAGE_SECONDS}")


@pytest.mark.slow
def test_an_sqs_outage_fails_no_submission_and_each_is_queued_once_sqs_is_back(sqs_outage: Runtime) -> None:
    # GIVEN SQS failing every delivery from the moment the runtime is ready, for 15 s
    t0 = time.monotonic()
    merchant = sqs_outage.put_merchant("Acme Stores", limit="100000")
    bodies: list[dict[str, Any]] = [
        {
            "transaction_id": f"txn_q_{i}_{uuid.uuid4().hex[:6]}",
            "merchant_id": merchant,
            "amount": Decimal(6000) if i % 2 else Decimal(100 + i) + Decimal("0.25"),
            "currency": "JPY" if i % 2 else "USD",
        }
        for i in range(SQS_TRANSACTIONS)
    ]
    # WHEN transactions are submitted during it
    answers = [sqs_outage.post(body) for body in bodies]
    # THEN every one is accepted at once (the submission is the pending record; nothing waits on SQS)
    assert [a.status for a in answers] == [202] * SQS_TRANSACTIONS
    during = sqs_outage.status()
    if time.monotonic() - t0 < SQS_OUTAGE_SECONDS - 5:  # still inside the outage: nothing could be queued
        assert during["rules"]["transaction-alerts-dev-enqueue"]["published"] == 0
        assert {(sqs_outage.record(b["transaction_id"]) or {}).get("status") for b in bodies} == {
            "PENDING_FRAUD_CHECK"
        }
    # AND once SQS is back, every one is queued and scored, each suspected one alerted
    wanted = {
        b["transaction_id"]: "FRAUD_SUSPECTED" if b["currency"] == "JPY" else "APPROVED" for b in bodies
    }
    scored = wait_for(
        lambda: all((sqs_outage.record(t) or {}).get("status") == s for t, s in wanted.items()),
        SQS_OUTAGE_SECONDS + 45,
        interval=0.5,
        what="every transaction scored after the SQS outage",
    )
    assert scored and time.monotonic() - t0 > SQS_OUTAGE_SECONDS - 5
    suspected = {t for t, s in wanted.items() if s == "FRAUD_SUSPECTED"}
    alerted = wait_for(
        lambda: suspected <= {a.get("transaction_id") for a in sqs_outage.alerts()},
        20,
        what="the fraud alerts",
    )
    assert alerted
    status = sqs_outage.status()
    assert status["faults"].get("sqs:SendMessage:outage", 0) > 0  # the enqueue rule's deliveries failed
    enqueue = status["rules"]["transaction-alerts-dev-enqueue"]
    assert enqueue["retried"] > 0 and enqueue["dead_lettered"] == 0
    assert (
        status["metrics"]["validation-lambda-dev"].get("TransactionsRejected{code=SERVICE_UNAVAILABLE}", 0)
        == 0
    )
