"""The local stand-ins for EventBridge Pipes and the alert bus: filters, patterns, templates, input
transformers, retries and the DLQ."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from card_transactions.stacks.constructs.alert_pipes import (
    DEAD_LETTER_MESSAGE,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    FRAUD_MESSAGE,
    alert_routes,
)
from local.event_bus import Endpoints, EventBus
from local.pipe_rules import TemplateError, matches, render, select, transform
from local.stack import EventRuleSpec, EventTargetSpec, PipeSpec
from local.stream_pipes import StreamPipe

RECORD = {
    "eventName": "MODIFY",
    "dynamodb": {
        "SequenceNumber": "100",
        "OldImage": {"status": {"S": "PENDING_FRAUD_CHECK"}},
        "NewImage": {
            "transaction_id": {"S": "t1"},
            "merchant_id": {"S": "m1"},
            "amount": {"N": "6000"},
            "currency": {"S": "JPY"},
            "status": {"S": "FRAUD_SUSPECTED"},
            "fraud_score": {"N": "60"},
            "reasons": {"L": [{"S": "HIGH_AMOUNT"}, {"S": "UNUSUAL_CURRENCY"}]},
            "received_at": {"S": "2026-12-06T09:00:00.000Z"},
            "metadata": {"M": {"note": {"S": 'a "quoted" value'}}},
        },
    },
}


FRAUD, DEAD_LETTER = alert_routes(alert_on_review_required=False)
EVENT = {"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": RECORD}


def test_the_fraud_message_renders_the_alert_fields_with_their_json_types():
    assert json.loads(transform(FRAUD_MESSAGE.input_paths, FRAUD_MESSAGE.template, EVENT)) == {
        "alert_type": "FRAUD",
        "transaction_id": "t1",
        "merchant_id": "m1",
        "amount": "6000",
        "currency": "JPY",
        "status": "FRAUD_SUSPECTED",
        "fraud_score": 60,
        "reasons": ["HIGH_AMOUNT", "UNUSUAL_CURRENCY"],
        "received_at": "2026-12-06T09:00:00.000Z",
    }


def test_quoted_values_are_escaped_and_objects_inserted_as_json():
    template = '{"note": "<$.dynamodb.NewImage.metadata.M.note.S>", "raw": <$.dynamodb.NewImage.metadata>}'
    assert json.loads(render(template, RECORD)) == {
        "note": 'a "quoted" value',
        "raw": {"M": {"note": {"S": 'a "quoted" value'}}},
    }


def test_a_path_the_record_lacks_is_an_error_not_an_empty_value():
    with pytest.raises(TemplateError, match="failure_reason"):
        transform(DEAD_LETTER_MESSAGE.input_paths, DEAD_LETTER_MESSAGE.template, EVENT)
    with pytest.raises(TemplateError, match="input_paths does not define"):
        transform({}, '{"a": "<a>"}', EVENT)
    with pytest.raises(TemplateError, match="unsupported path"):
        select(RECORD, "$.dynamodb..NewImage")
    assert select(RECORD, "$.dynamodb.NewImage.reasons.L[1].S") == "UNUSUAL_CURRENCY"
    assert select({"list": []}, "$.list[*].S") == []


def test_no_filters_pass_everything_and_filters_select_the_transition():
    assert matches([], RECORD)
    assert matches([FRAUD.record_filter], RECORD) and matches([FRAUD.event_pattern], EVENT)
    assert not matches([DEAD_LETTER.record_filter], RECORD) and not matches(
        [DEAD_LETTER.event_pattern], EVENT
    )
    approved = json.loads(json.dumps(RECORD).replace("FRAUD_SUSPECTED", "APPROVED"))
    assert not matches([FRAUD.record_filter], approved)
    assert not matches([FRAUD.event_pattern], {**EVENT, "detail": approved})
    assert not matches([FRAUD.event_pattern], {**EVENT, "source": "elsewhere"})


class FlakySns:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[str] = []

    def publish(self, TopicArn: str, Message: str) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("InternalError")
        self.published.append(Message)
        return {"MessageId": "1"}


class Sqs:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.attributes: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None) -> None:
        self.sent.append(MessageBody)
        self.attributes.append(MessageAttributes or {})


class Streams:
    """One shard holding ``records`` after ``LATEST``."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, str]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        return {"Records": self.records[start:], "NextShardIterator": str(len(self.records))}


class FlakyBus:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[tuple[str, str, Any]] = []

    def put(self, source: str, detail_type: str, detail: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("InternalException")
        self.events.append((source, detail_type, detail))


def _pipe(bus: Any, sqs: Sqs, retries: int, template: str | None = None) -> StreamPipe:
    spec = PipeSpec(
        "P", "p", "table", "bus", (FRAUD.record_filter,), template, 1, retries, "dlq", "src", "type"
    )
    return StreamPipe(
        spec,
        streams=Streams([RECORD, {**RECORD, "eventName": "REMOVE"}]),
        bus=bus,
        sqs=sqs,
        stream_arn="arn:stream",
        dlq_url="dlq-url",
        stop=threading.Event(),
    )


def test_the_pipe_puts_the_matching_record_on_its_bus_as_the_detail(monkeypatch):
    monkeypatch.setattr("local.stream_pipes.RETRY_BASE_SECONDS", 0.001)
    bus, sqs = FlakyBus(failures=2), Sqs()
    pipe = _pipe(bus, sqs, retries=3)
    assert pipe.poll()
    assert bus.events == [("src", "type", RECORD)]
    assert (pipe.retried, pipe.read, sqs.sent) == (2, 2, [])
    assert not pipe.poll()  # nothing new on the stream


def test_after_its_retries_the_records_place_in_the_stream_goes_to_the_dlq(monkeypatch):
    monkeypatch.setattr("local.stream_pipes.RETRY_BASE_SECONDS", 0.001)
    bus, sqs = FlakyBus(failures=10), Sqs()
    pipe = _pipe(bus, sqs, retries=2)
    pipe.poll()
    assert (bus.events, pipe.dead_lettered) == ([], 1)
    (body,) = map(json.loads, sqs.sent)
    assert body["streamBatchInfo"]["startSequenceNumber"] == "100"
    assert "NewImage" not in json.dumps(body)  # where the record is, not the record


def test_a_record_the_pipe_template_cannot_render_goes_to_the_dlq_at_once():
    bus, sqs = FlakyBus(failures=0), Sqs()
    pipe = _pipe(bus, sqs, retries=5, template='{"x": "<$.dynamodb.NewImage.failure_reason.S>"}')
    pipe.poll()
    assert (bus.events, pipe.dead_lettered, pipe.retried) == ([], 1, 0)


def _bus(sns: FlakySns, sqs: Sqs, retries: int) -> tuple[EventBus, threading.Event]:
    rules = [
        EventRuleSpec(
            route.construct_id,
            f"alerts-{route.suffix}",
            "bus",
            route.event_pattern,
            True,
            (
                EventTargetSpec(
                    "T", "topic", route.message.input_paths, route.message.template, retries, 60, "dlq"
                ),
            ),
        )
        for route in (FRAUD, DEAD_LETTER)
    ]
    stop = threading.Event()
    endpoints = Endpoints({"topic": "arn:topic"}, {"dlq": "dlq-url"})
    bus = EventBus("alerts", rules, sns=sns, sqs=sqs, endpoints=endpoints, account="1", region="r", stop=stop)
    bus.start()
    return bus, stop


def _settled(bus: EventBus, done: Any) -> None:
    deadline = time.monotonic() + 5
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done()


def test_the_bus_routes_an_event_to_its_rule_and_retries_the_topic(monkeypatch):
    monkeypatch.setattr("local.event_bus.RETRY_BASE_SECONDS", 0.001)
    sns, sqs = FlakySns(failures=2), Sqs()
    bus, stop = _bus(sns, sqs, retries=3)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, RECORD)
    _settled(bus, lambda: sns.published)
    stop.set()
    (message,) = map(json.loads, sns.published)
    assert message["alert_type"] == "FRAUD" and message["reasons"] == ["HIGH_AMOUNT", "UNUSUAL_CURRENCY"]
    assert bus.counts["alerts-fraud"].__dict__ == {
        "matched": 1,
        "published": 1,
        "retried": 2,
        "dead_lettered": 0,
    }
    assert bus.counts["alerts-dead-letters"].matched == 0 and sqs.sent == []


def test_past_its_retries_the_bus_sends_the_event_to_the_targets_dlq(monkeypatch):
    monkeypatch.setattr("local.event_bus.RETRY_BASE_SECONDS", 0.001)
    sns, sqs = FlakySns(failures=10), Sqs()
    bus, stop = _bus(sns, sqs, retries=2)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, RECORD)
    _settled(bus, lambda: sqs.sent)
    stop.set()
    assert (sns.published, bus.counts["alerts-fraud"].dead_lettered) == ([], 1)
    (body,) = map(json.loads, sqs.sent)
    assert body["detail"] == RECORD and body["source"] == EVENT_SOURCE
    assert sqs.attributes[0]["ERROR_CODE"]["StringValue"] == "RetriesExhausted"
    assert sqs.attributes[0]["RULE_ARN"]["StringValue"].endswith(":rule/alerts/alerts-fraud")


def test_an_event_no_rule_matches_is_dropped_and_one_the_message_cannot_render_is_dead_lettered():
    sns, sqs = FlakySns(failures=0), Sqs()
    bus, stop = _bus(sns, sqs, retries=0)
    bus.put("elsewhere", EVENT_DETAIL_TYPE, RECORD)
    lacking = json.loads(json.dumps(RECORD))
    del lacking["dynamodb"]["NewImage"]["fraud_score"]
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, lacking)
    _settled(bus, lambda: sqs.sent)
    stop.set()
    assert sns.published == [] and bus.counts["alerts-fraud"].matched == 1
    assert sqs.attributes[0]["ERROR_CODE"]["StringValue"] == "InvalidInput"
