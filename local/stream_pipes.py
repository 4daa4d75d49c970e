"""EventBridge Pipes from a table's change stream to an event bus, emulated: read, filter, render, put.

One thread per pipe of the stack reads the table's stream from moto (DynamoDB Streams, from the moment
the runtime starts, as ``LATEST`` does), four times a second like the managed poller; each record the
pipe's filters pass (``local.pipe_rules``) is put on its bus (``local.event_bus``) as the detail of an
event with the pipe's source and detail type (rendered with its input template first, if it has one).
A put that fails is retried with back-off in stream order (the shard waits, as on AWS) up to the pipe's
``maximum_retry_attempts``; then the record's place in the stream goes to the pipe's dead-letter queue
and the pipe moves on. A record whose template cannot be rendered goes there at once. The stream reads
never fail. A shard's records are put one at a time, in order: a put only hands the event to the bus,
whose targets are delivered by its own threads, so one reader keeps pace with the table (the stack's
``parallelization_factor`` is not needed locally).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from local.event_bus import EventBus
from local.pipe_rules import TemplateError, matches, render
from local.stack import PipeSpec

POLL_SECONDS = 0.25  # DynamoDB stream shards are polled four times a second
RETRY_BASE_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
UNLIMITED_RETRIES = 185  # -1 means "until the record expires" on AWS; locally, a bound


def as_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stream record as the pipe sees it: JSON, ``ApproximateCreationDateTime`` in epoch seconds (boto3
    parses it into a datetime)."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.timestamp()
        raise TypeError(f"{type(value).__name__} in a stream record")

    result: dict[str, Any] = json.loads(json.dumps(record, default=plain))
    return result


class StreamPipe:
    def __init__(
        self,
        spec: PipeSpec,
        *,
        streams: Any,
        bus: EventBus,
        sqs: Any,
        stream_arn: str,
        dlq_url: str | None,
        stop: threading.Event,
    ) -> None:
        self.spec = spec
        self._streams = streams
        self._bus = bus
        self._sqs = sqs
        self._stream_arn = stream_arn
        self._dlq_url = dlq_url
        self._stop = stop
        self._iterators = self._latest_iterators()
        self._thread = threading.Thread(target=self._run, name=f"pipe-{spec.name}", daemon=True)
        self.read = 0
        self.published = 0
        self.retried = 0
        self.dead_lettered = 0

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _latest_iterators(self) -> dict[str, str]:
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        return {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll():
                    self._stop.wait(POLL_SECONDS)
            except Exception as exc:  # keep polling, like the managed poller
                if self._stop.is_set():
                    return
                print(f"[pipe] {self.spec.name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                self._stop.wait(1)

    def poll(self) -> bool:
        """One read of every shard; True when records came back."""
        any_records = False
        for shard, iterator in list(self._iterators.items()):
            response = self._streams.get_records(ShardIterator=iterator, Limit=100)
            for raw in response.get("Records", []):
                any_records = True
                self.read += 1
                record = as_event(raw)
                if matches(self.spec.filters, record):
                    self._deliver(shard, record)
            self._iterators[shard] = response["NextShardIterator"]
        return any_records

    def _deliver(self, shard: str, record: Mapping[str, Any]) -> None:
        template = self.spec.input_template
        try:
            detail = json.loads(render(template, record)) if template else record
        except TemplateError as exc:
            print(f"[pipe] {self.spec.name}: {exc}", file=sys.stderr, flush=True)
            self._dead_letter(shard, record)
            return
        limit = self.spec.maximum_retry_attempts
        attempts = 1 + (UNLIMITED_RETRIES if limit < 0 else limit)
        delay = RETRY_BASE_SECONDS
        last_error = ""
        for attempt in range(attempts):
            if attempt:
                self.retried += 1
                if self._stop.wait(delay):
                    return
                delay = min(RETRY_MAX_SECONDS, delay * 2)
            try:
                self._bus.put(self.spec.event_source, self.spec.detail_type, detail)
            except Exception as exc:  # retried, as the pipe retries a failed target
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            self.published += 1
            return
        print(f"[pipe] {self.spec.name}: gave up after {attempts} attempts ({last_error})", file=sys.stderr)
        self._dead_letter(shard, record)

    def _dead_letter(self, shard: str, record: Mapping[str, Any]) -> None:
        """What a stream pipe sends to its DLQ: where the record is, not the record."""
        self.dead_lettered += 1
        if self._dlq_url is None:
            return
        sequence = record["dynamodb"]["SequenceNumber"]
        body = {
            "context": {"pipeName": self.spec.name, "condition": "RetryAttemptsExhausted"},
            "streamBatchInfo": {
                "streamArn": self._stream_arn,
                "shardId": shard,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "batchSize": 1,
            },
        }
        self._sqs.send_message(QueueUrl=self._dlq_url, MessageBody=json.dumps(body))
