"""The local stand-in for EventBridge Pipes: template rendering, filtering, retries and the DLQ."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from local.pipe_rules import TemplateError, matches, render, select
from local.stack import PipeSpec
from local.stream_pipes import StreamPipe
from stacks.constructs.alert_pipes import DEAD_LETTER_TEMPLATE, FRAUD_TEMPLATE, fraud_filters

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


def test_the_fraud_template_renders_the_alert_fields_with_their_json_types():
    assert json.loads(render(FRAUD_TEMPLATE, RECORD)) == {
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
        render(DEAD_LETTER_TEMPLATE, RECORD)
    with pytest.raises(TemplateError, match="unsupported path"):
        select(RECORD, "$.dynamodb..NewImage")
    assert select(RECORD, "$.dynamodb.NewImage.reasons.L[1].S") == "UNUSUAL_CURRENCY"
    assert select({"list": []}, "$.list[*].S") == []


def test_no_filters_pass_everything_and_filters_select_the_transition():
    assert matches([], RECORD)
    assert matches(fraud_filters(False), RECORD)
    approved = json.loads(json.dumps(RECORD).replace("FRAUD_SUSPECTED", "APPROVED"))
    assert not matches(fraud_filters(False), approved)


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

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:
        self.sent.append(MessageBody)


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


def _pipe(sns: FlakySns, sqs: Sqs, retries: int, template: str = FRAUD_TEMPLATE) -> StreamPipe:
    spec = PipeSpec("P", "p", "table", "topic", tuple(fraud_filters(False)), template, 1, retries, "dlq")
    return StreamPipe(
        spec,
        streams=Streams([RECORD, {**RECORD, "eventName": "REMOVE"}]),
        sns=sns,
        sqs=sqs,
        stream_arn="arn:stream",
        topic_arn="arn:topic",
        dlq_url="dlq-url",
        stop=threading.Event(),
    )


def test_a_failed_publish_is_retried_and_delivered_once(monkeypatch):
    monkeypatch.setattr("local.stream_pipes.RETRY_BASE_SECONDS", 0.001)
    sns, sqs = FlakySns(failures=2), Sqs()
    pipe = _pipe(sns, sqs, retries=3)
    assert pipe.poll()
    assert (len(sns.published), pipe.retried, pipe.read, sqs.sent) == (1, 2, 2, [])
    assert not pipe.poll()  # nothing new on the stream


def test_after_its_retries_the_records_place_in_the_stream_goes_to_the_dlq(monkeypatch):
    monkeypatch.setattr("local.stream_pipes.RETRY_BASE_SECONDS", 0.001)
    sns, sqs = FlakySns(failures=10), Sqs()
    pipe = _pipe(sns, sqs, retries=2)
    pipe.poll()
    assert (sns.published, pipe.dead_lettered) == ([], 1)
    (body,) = map(json.loads, sqs.sent)
    assert body["streamBatchInfo"]["startSequenceNumber"] == "100"
    assert "NewImage" not in json.dumps(body)  # where the record is, not the record


def test_a_record_the_template_cannot_render_goes_to_the_dlq_at_once():
    sns, sqs = FlakySns(failures=0), Sqs()
    pipe = _pipe(sns, sqs, retries=5, template=DEAD_LETTER_TEMPLATE)
    pipe.poll()
    assert (sns.published, pipe.dead_lettered, pipe.retried) == ([], 1, 0)
