"""Hundreds of transactions while DynamoDB, SNS and SQS fail at random: none lost, none duplicated, and
every suspected or failed one alerted. Every transaction reaches its queue and every alert its topic from
the table's stream (the pipe, the bus, its rules' targets retrying SendMessage and Publish)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from local.driver import (
    TERMINAL,
    Response,
    Runtime,
    start_runtime,
    stop_runtime,
    wait_for,
    wait_while_progressing,
)

TRANSACTIONS = 500
CLIENTS = 4
FAULT_RATE = "0.3"


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-faults"),
        LOCAL_FAULT_RATE=FAULT_RATE,
        LOCAL_FAULT_SERVICES="dynamodb,sns,sqs",
        LOCAL_FAULT_SEED="20240601",
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


def _submit(runtime: Runtime, body: dict, unavailable: list[Response]) -> tuple[str, int, int]:
    """Like a well-behaved client: retry 503s with the same payload (idempotent), give up after 20."""
    for attempt in range(1, 21):
        response = runtime.post(body)
        if response.status != 503:
            return body["transaction_id"], response.status, attempt
        unavailable.append(response)
        time.sleep(0.02 * attempt)
    return body["transaction_id"], 503, attempt


@pytest.mark.slow
def test_every_accepted_transaction_ends_in_exactly_one_terminal_state(faulty: Runtime) -> None:
    # GIVEN merchants whose transactions score to each status, and 30% of DynamoDB/SNS/SQS calls failing
    approved = faulty.put_merchant("Acme Stores", limit="100000")
    suspicious = faulty.put_merchant("Fake Goods Ltd", limit="100000")
    plans: list[tuple[dict[str, Any], str]] = []
    for i in range(TRANSACTIONS):
        kind = i % 3
        merchant, amount, currency, expected = (
            (approved, Decimal(100 + i) + Decimal("0.25"), "USD", "APPROVED"),
            (suspicious, Decimal(10 + i) + Decimal("0.50"), "EUR", "REVIEW_REQUIRED"),
            (approved, Decimal(6000), "JPY", "FRAUD_SUSPECTED"),
        )[kind]
        body = {
            "transaction_id": f"txn_f_{i}_{uuid.uuid4().hex[:6]}",
            "merchant_id": merchant,
            "amount": amount,
            "currency": currency,
        }
        plans.append((body, expected))

    # WHEN they are submitted concurrently
    unavailable: list[Response] = []
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda plan: _submit(faulty, plan[0], unavailable), plans))
    submitted = time.monotonic() - started
    statuses = Counter(status for _, status, _ in results)
    accepted = {tid for tid, status, _ in results if status == 202}
    assert statuses[202] == TRANSACTIONS, statuses  # clients retrying 503s always get through
    expected_status = {plan[0]["transaction_id"]: plan[1] for plan in plans}
    # a dependency failure the function could not absorb is a retryable 503
    assert unavailable
    assert {r.body["error"]["code"] for r in unavailable} == {"SERVICE_UNAVAILABLE"}
    assert all(r.headers.get("retry-after") == "1" for r in unavailable)

    # THEN every accepted transaction reaches exactly one terminal state
    def settled() -> tuple[int, list[dict] | None]:
        records = faulty.scan()
        final = [r for r in records if r["transaction_id"] in accepted and r["status"] in TERMINAL]
        return len(final), records if len(final) == len(accepted) else None

    records = wait_while_progressing(settled, 60, what="every accepted transaction to settle")
    settled_after = time.monotonic() - started
    by_id = Counter(r["transaction_id"] for r in records)
    assert [tid for tid, n in by_id.items() if n > 1] == []  # no duplicates
    mine = [r for r in records if r["transaction_id"] in accepted]
    assert len(mine) == len(accepted)  # none lost
    outcome = Counter(r["status"] for r in mine)
    # a transaction either scored as its rules say, or was dead-lettered as FAILED; never anything else
    wrong = [
        r["transaction_id"]
        for r in mine
        if r["status"] not in (expected_status[r["transaction_id"]], "FAILED")
    ]
    assert wrong == []
    assert all(r.get("failure_reason") for r in mine if r["status"] == "FAILED")

    # AND the queues drain, the faults really happened, and failures were alerted
    wait_for(lambda: faulty.queue_depth("transaction-queue") == 0, 30, what="an empty transactions queue")
    wait_for(lambda: faulty.queue_depth("transaction-dlq") == 0, 30, what="an empty DLQ")
    faults = faulty.status()["faults"]
    assert {k.split(":")[0] for k in faults} >= {"dynamodb", "sns", "sqs"}, faults
    assert any(k.startswith("sqs:SendMessage:") for k in faults), faults  # the enqueue rule's deliveries
    # AND every FRAUD_SUSPECTED and FAILED transaction is alerted, and nothing else is
    suspected = {r["transaction_id"] for r in mine if r["status"] == "FRAUD_SUSPECTED"}
    failed = {r["transaction_id"] for r in mine if r["status"] == "FAILED"}
    assert len(suspected) >= TRANSACTIONS // 3 - len(failed)

    def all_alerted() -> list[dict[str, Any]] | None:
        alerts = [a for a in faulty.alerts() if a["transaction_id"] in accepted]
        fraud = Counter(a["transaction_id"] for a in alerts if a["alert_type"] == "FRAUD")
        return alerts if suspected <= set(fraud) else None

    alerts = wait_for(all_alerted, 30, what="an alert for every suspected transaction")
    fraud = Counter(a["transaction_id"] for a in alerts if a["alert_type"] == "FRAUD")
    assert set(fraud) == suspected
    dead = Counter(a["transaction_id"] for a in alerts if a["alert_type"] == "TRANSACTION_DEAD_LETTERED")
    assert failed <= set(dead)
    # a second copy only where a publish reached SNS but was not acknowledged (a lost answer, or a
    # transport retry of botocore's) and the rule's target published again
    status = faulty.status()
    rules = status["rules"]
    enqueue = rules.pop("transaction-alerts-dev-enqueue")  # the others are the alert rules
    unacknowledged = status["aws_requests"]["pipes"]["sns:Publish"] - sum(
        r["published"] for r in rules.values()
    )
    assert status["faults"].get("sns:Publish:lost", 0) <= unacknowledged
    # (a transaction may alert twice as a dead letter, for two events: its retries running out while
    # pending, then FAILED; copies of one event carry the same status)
    dead_events = Counter(
        (a["transaction_id"], a["status"]) for a in alerts if a["alert_type"] == "TRANSACTION_DEAD_LETTERED"
    )
    copies = sum(n - 1 for n in fraud.values()) + sum(n - 1 for n in dead_events.values())
    # plus the at-least-once delivery of a stream pipe and a bus (AWS's as the local runtime's: a record read
    # twice now and then, seen here as 1 copy beyond the lost answers in about 1 run of 4)
    assert copies <= unacknowledged + len(alerts) // 100
    assert sum(r["retried"] for r in rules.values()) > 0  # SNS failures were retried by the rules' targets
    assert sum(r["dead_lettered"] for r in rules.values()) == 0
    # AND every transaction was enqueued from the stream, SQS failures retried by the enqueue rule's target
    assert enqueue["published"] >= TRANSACTIONS and enqueue["retried"] > 0 and enqueue["dead_lettered"] == 0
    assert not any(op.startswith("sqs:") for op in status["aws_requests"]["functions"])
    assert sum(p["dead_lettered"] for p in faulty.status()["pipes"].values()) == 0

    print(
        f"\n{TRANSACTIONS} transactions, {FAULT_RATE} fault rate: submitted in {submitted:.1f} s "
        f"({TRANSACTIONS / submitted:.0f}/s, {sum(a for _, _, a in results) - TRANSACTIONS} client retries), "
        f"all settled after {settled_after:.1f} s; outcomes {dict(outcome)}; "
        f"{sum(faults.values())} injected faults; {len(alerts)} alerts"
    )


@pytest.fixture(scope="module")
def sns_faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    started = start_runtime(
        tmp_path_factory.mktemp("local-sns-faults"),
        LOCAL_FAULT_RATE="0.7",
        LOCAL_FAULT_SERVICES="sns",
        LOCAL_FAULT_SEED="3",
        LOCAL_SEED="false",
    )
    yield started
    stop_runtime(started)


@pytest.mark.slow
def test_sns_failures_never_hold_back_scoring_and_no_alert_is_lost(sns_faulty: Runtime) -> None:
    # GIVEN 70% of SNS publishes failing WHEN suspected transactions are processed
    merchant = sns_faulty.put_merchant("Acme Stores", limit="100000")
    ids: list[str] = []
    for _ in range(40):
        body: dict[str, Any] = {
            "transaction_id": f"txn_a_{uuid.uuid4().hex[:10]}",
            "merchant_id": merchant,
            "amount": Decimal(6000),
            "currency": "JPY",
        }
        assert sns_faulty.post(body).status == 202
        ids.append(body["transaction_id"])
    wait_for(
        lambda: all((sns_faulty.record(i) or {}).get("status") in TERMINAL for i in ids),
        30,
        interval=0.5,
        what="scoring",
    )
    # THEN scoring never waited on SNS: nothing was retried or dead-lettered by the functions
    assert sns_faulty.queue_depth("transaction-queue") == 0
    assert sns_faulty.queue_depth("transaction-dlq") == 0

    # AND each alert is either delivered (after its rule target's retries) or, past its retries, its
    # event is in the alert DLQ (which alarms): none is lost silently
    def accounted() -> bool:
        rule = sns_faulty.status()["rules"]["transaction-alerts-dev-fraud"]
        return rule["published"] + rule["dead_lettered"] >= len(ids)

    wait_for(accounted, 120, interval=0.5, what="every alert delivered or dead-lettered")
    rule = sns_faulty.status()["rules"]["transaction-alerts-dev-fraud"]
    assert rule["matched"] == rule["published"] + rule["dead_lettered"] == len(ids)
    # a publish SNS applied but answered with a 500 is retried (or dead-lettered) though it was delivered
    delivered = [i for i in ids if sns_faulty.alerts_about(i)]
    assert len(delivered) >= rule["published"]
    assert sns_faulty.queue_depth("transaction-alerts") == rule["dead_lettered"]
