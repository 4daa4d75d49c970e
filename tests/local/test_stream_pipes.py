"""The local stand-ins for EventBridge Pipes and the event bus: filters, patterns, templates, input
transformers, retries and the DLQ."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from card_transactions.handlers.domain.records import enqueue_pattern
from card_transactions.stacks.constructs.alert_pipes import (
    DEAD_LETTER_MESSAGE,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    FRAUD_MESSAGE,
    alert_routes,
)
from local.event_bus import Endpoints, EventBus
from local.pipe_rules import TemplateError, matches, render, select, transform
from local.stack import EventRuleSpec, EventTargetSpec, PipeSpec, parse_stack
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
ENQUEUE_PATTERN = enqueue_pattern()  # the stack's own is checked against the synthesized stack in tests/infra
MESSAGE = '{"version": 1, "transaction": {"transaction_id": "t2", "amount": "10.00"}}'
INSERT = {
    "eventName": "INSERT",
    "dynamodb": {
        "SequenceNumber": "101",
        "NewImage": {
            "transaction_id": {"S": "t2"},
            "status": {"S": "PENDING_FRAUD_CHECK"},
            "message": {"S": MESSAGE},
        },
    },
}


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
    """SendMessage that fails ``failures`` times first; what it sent, by queue URL."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[str] = []
        self.urls: list[str] = []
        self.attributes: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str, MessageAttributes: Any = None) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("InternalError")
        self.sent.append(MessageBody)
        self.urls.append(QueueUrl)
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


def _bus(
    sns: FlakySns, sqs: Sqs, retries: int, dead_letters: Sqs | None = None, *extra: EventRuleSpec
) -> tuple[EventBus, threading.Event]:
    """The alert rules (topic targets) and an enqueue rule (a queue target with an input path)."""
    alerts = [
        EventRuleSpec(
            route.construct_id,
            f"alerts-{route.suffix}",
            "bus",
            route.event_pattern,
            True,
            (
                EventTargetSpec(
                    "T",
                    topic="topic",
                    queue=None,
                    input_paths=route.message.input_paths,
                    input_template=route.message.template,
                    maximum_retry_attempts=retries,
                    maximum_event_age_seconds=60,
                    dead_letter_queue="dlq",
                ),
            ),
        )
        for route in (FRAUD, DEAD_LETTER)
    ]
    enqueue = EventRuleSpec(
        "Enqueue",
        "alerts-enqueue",
        "bus",
        json.dumps({"source": [EVENT_SOURCE], "detail": ENQUEUE_PATTERN}),
        True,
        (
            EventTargetSpec(
                "EnqueueTarget",
                topic=None,
                queue="transactions",
                input_paths={},
                input_template=None,
                maximum_retry_attempts=retries,
                maximum_event_age_seconds=60,
                dead_letter_queue="dlq",
                input_path="$.detail.dynamodb.NewImage.message",
            ),
        ),
    )
    stop = threading.Event()
    endpoints = Endpoints(
        {"topic": "arn:topic"},
        {"dlq": "dlq-url", "transactions": "transactions-url"},
        {"dlq": "arn:dlq", "transactions": "arn:transactions"},
    )
    bus = EventBus(
        "alerts",
        [*alerts, enqueue, *extra],
        sns=sns,
        sqs=sqs,
        dead_letters=dead_letters or sqs,
        endpoints=endpoints,
        account="1",
        region="r",
        stop=stop,
    )
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


# --- the enqueue rule: a queue target with an input path ------------------------------------------


def _image(**attributes: str) -> dict[str, Any]:
    image = {key: {"S": value} for key, value in attributes.items()}
    return {"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "102", "NewImage": image}}


def test_the_enqueue_rule_sends_the_stored_message_attribute_to_the_queue_retrying_it(monkeypatch):
    monkeypatch.setattr("local.event_bus.RETRY_BASE_SECONDS", 0.001)
    sns, sqs, dlq = FlakySns(failures=0), Sqs(failures=2), Sqs()
    bus, stop = _bus(sns, sqs, 3, dlq)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, INSERT)
    _settled(bus, lambda: sqs.sent)
    stop.set()
    # the value at the input path, as JSON: the attribute as the stream shows it
    assert (sqs.sent, sqs.urls) == ([json.dumps({"S": MESSAGE})], ["transactions-url"])
    assert json.loads(json.loads(sqs.sent[0])["S"])["transaction"]["transaction_id"] == "t2"
    assert bus.counts["alerts-enqueue"].__dict__ == {
        "matched": 1,
        "published": 1,
        "retried": 2,
        "dead_lettered": 0,
    }
    assert (sns.published, dlq.sent) == ([], [])


@pytest.mark.parametrize(
    ("record", "enqueued"),
    [
        (INSERT, True),  # the validation function's put
        (_image(status="PENDING_FRAUD_CHECK", message=MESSAGE), True),  # the reconciler's touch
        (_image(status="PENDING_FRAUD_CHECK", message=MESSAGE, failure_reason="RETRIES_EXHAUSTED"), False),
        (_image(status="APPROVED", message=MESSAGE), False),  # a verdict
        (_image(status="PENDING_FRAUD_CHECK"), False),  # no message to send
        ({**INSERT, "eventName": "REMOVE"}, False),
    ],
)
def test_only_pending_records_with_a_message_and_no_failure_are_enqueued(record, enqueued):
    sns, sqs = FlakySns(failures=0), Sqs()
    bus, stop = _bus(sns, sqs, 0)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, record)
    stop.set()
    assert bus.counts["alerts-enqueue"].matched == int(enqueued)


def test_past_its_retries_the_enqueue_event_goes_to_the_dlq_naming_the_queue(monkeypatch):
    monkeypatch.setattr("local.event_bus.RETRY_BASE_SECONDS", 0.001)
    sqs, dlq = Sqs(failures=10), Sqs()
    bus, stop = _bus(FlakySns(failures=0), sqs, 2, dlq)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, INSERT)
    _settled(bus, lambda: dlq.sent)
    stop.set()
    assert (sqs.sent, bus.counts["alerts-enqueue"].dead_lettered, dlq.urls) == ([], 1, ["dlq-url"])
    assert json.loads(dlq.sent[0])["detail"] == INSERT
    attributes = {name: value["StringValue"] for name, value in dlq.attributes[0].items()}
    assert attributes["TARGET_ARN"] == "arn:transactions"
    assert attributes["ERROR_CODE"] == "RetriesExhausted"
    assert attributes["RULE_ARN"].endswith(":rule/alerts/alerts-enqueue")


def test_a_target_without_an_input_gets_the_whole_event_and_a_missing_path_is_dead_lettered():
    target = EventTargetSpec("W", None, "transactions", {}, None, 0, 60, "dlq")
    whole = EventRuleSpec("W", "alerts-whole", "bus", json.dumps({"source": [EVENT_SOURCE]}), True, (target,))
    sqs, dlq = Sqs(), Sqs()
    bus, stop = _bus(FlakySns(failures=0), sqs, 0, dlq, whole)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, RECORD)
    pending = json.loads(json.dumps(INSERT))
    del pending["dynamodb"]["NewImage"]["message"]  # delivered without matching: the input path fails
    enqueue = bus.rules[2]
    bus._deliver(enqueue, enqueue.targets[0], {"detail": pending})
    _settled(bus, lambda: sqs.sent)
    stop.set()
    (event,) = map(json.loads, sqs.sent)
    assert (event["detail"], event["source"], event["detail-type"]) == (
        RECORD,
        EVENT_SOURCE,
        EVENT_DETAIL_TYPE,
    )
    assert [a["ERROR_CODE"]["StringValue"] for a in dlq.attributes] == ["InvalidInput"]


def _rule_doc(**target: Any) -> dict[str, Any]:
    return {
        "provider": {"aws": [{"region": "us-east-2"}]},
        "resource": {
            "aws_cloudwatch_event_rule": {
                "R": {
                    "name": "bus-enqueue",
                    "event_bus_name": "${aws_cloudwatch_event_bus.B.name}",
                    "event_pattern": "{}",
                }
            },
            "aws_cloudwatch_event_target": {"T": {"rule": "${aws_cloudwatch_event_rule.R.name}", **target}},
        },
    }


def test_a_rule_target_is_read_as_a_topic_or_a_queue_with_its_input():
    queue = _rule_doc(arn="${aws_sqs_queue.Q.arn}", input_path="$.detail.dynamodb.NewImage.message")
    ((target,),) = (rule.targets for rule in parse_stack(queue).rules)
    assert (target.topic, target.queue, target.input_path, target.input_template) == (
        None,
        "Q",
        "$.detail.dynamodb.NewImage.message",
        None,
    )
    topic = _rule_doc(arn="${aws_sns_topic.A.arn}", input_transformer={"input_template": '"x"'})
    ((target,),) = (rule.targets for rule in parse_stack(topic).rules)
    assert (target.topic, target.queue, target.input_path, target.input_template) == ("A", None, None, '"x"')
    with pytest.raises(ValueError, match="must reference an aws_sns_topic or aws_sqs_queue"):
        parse_stack(_rule_doc(arn="${aws_lambda_function.F.arn}"))
    with pytest.raises(ValueError, match="input_path, input_transformer"):
        parse_stack(
            _rule_doc(arn="${aws_sqs_queue.Q.arn}", input_path="$", input_transformer={"input_template": "x"})
        )


def test_a_target_retrying_does_not_hold_up_the_other_events():
    # GIVEN the queue failing every delivery (the enqueue event keeps retrying)
    sns, sqs = FlakySns(failures=0), Sqs(failures=1000)
    bus, stop = _bus(sns, sqs, 100)
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, INSERT)
    _settled(bus, lambda: bus.counts["alerts-enqueue"].retried)
    # WHEN an alert's event follows
    bus.put(EVENT_SOURCE, EVENT_DETAIL_TYPE, RECORD)
    # THEN it is published while the enqueue is still retrying
    _settled(bus, lambda: sns.published)
    assert bus.counts["alerts-enqueue"].published == 0
    stop.set()
