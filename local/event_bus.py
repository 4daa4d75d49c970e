"""An EventBridge event bus of the stack, emulated: its rules' patterns, its targets' inputs, and delivery.

moto's EventBridge matches rules but cannot deliver to an SNS target, nor retry a target or dead-letter
what it could not deliver; so the runtime routes the bus itself, from the synthesized rules and targets
(``local.stack.EventRuleSpec``): an event put on the bus is matched against each enabled rule's pattern
(moto's implementation); each matching rule's targets get their input: what their input transformer
renders (``local.pipe_rules.transform``), the JSON of the part of the event their ``input_path`` selects,
or else the whole event. It is published to the target's topic (SNS Publish) or sent to its queue (SQS
SendMessage), asynchronously as on AWS, by a few delivery threads (EventBridge keeps no order between
events). A failed delivery is retried with back-off up to the target's retry policy (attempts; the event
age is not waited out locally); then the event goes to the target's dead-letter queue, with the
attributes EventBridge adds (``TARGET_ARN`` names the topic or queue). An event whose input cannot be
built goes there at once.

The SNS and SQS clients the targets are delivered with may carry the runtime's fault injection
(``LOCAL_FAULT_SERVICES`` with ``sns`` or ``sqs``, and the outages of those services), so the fault runs
exercise the retries; the dead-letter queues are sent to with a client of their own, which never fails.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.pipe_rules import TemplateError, matches, select, transform
from local.stack import EventRuleSpec, EventTargetSpec

RETRY_BASE_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
DELIVERY_THREADS = 4  # events delivered at once (a target's retries wait without holding up the others)


@dataclass
class RuleCounts:
    matched: int = 0
    published: int = 0
    retried: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True)
class Endpoints:
    """Where the targets deliver: topic ARNs, queue URLs and queue ARNs by logical id."""

    topic_arns: Mapping[str, str]
    queue_urls: Mapping[str, str]
    queue_arns: Mapping[str, str]

    def arn(self, target: EventTargetSpec) -> str:
        """The ARN of the target's topic or queue."""
        if target.topic is not None:
            return self.topic_arns[target.topic]
        assert target.queue is not None, "a target is a topic or a queue"
        return self.queue_arns[target.queue]


class EventBus:
    def __init__(
        self,
        name: str,
        rules: Sequence[EventRuleSpec],
        *,
        sns: Any,
        sqs: Any,
        dead_letters: Any,
        endpoints: Endpoints,
        account: str,
        region: str,
        stop: threading.Event,
        on_attempt: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self.rules = [r for r in rules if r.enabled]
        self.counts = {r.name: RuleCounts() for r in self.rules}
        self._counting = threading.Lock()  # the delivery threads count concurrently
        self._sns = sns
        self._sqs = sqs
        self._dead_letters = dead_letters
        self._endpoints = endpoints
        self._account = account
        self._region = region
        self._stop = stop
        self._on_attempt = on_attempt
        self._deliveries: queue.Queue[tuple[EventRuleSpec, EventTargetSpec, dict[str, Any]]] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._run, name=f"bus-{name}-{i}", daemon=True)
            for i in range(DELIVERY_THREADS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def put(self, source: str, detail_type: str, detail: Any) -> dict[str, Any]:
        """PutEvents of one entry: the event, routed to the matching rules' targets (delivered later)."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self._account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [],
            "detail": detail,
        }
        for rule in self.rules:
            if matches([rule.pattern], event):
                self._count(rule, "matched")
                for target in rule.targets:
                    self._deliveries.put((rule, target, event))
        return event

    def pending(self) -> int:
        return self._deliveries.qsize()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rule, target, event = self._deliveries.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._deliver(rule, target, event)
            except Exception as exc:  # keep delivering, like the managed service
                print(f"[bus] {self.name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def _deliver(self, rule: EventRuleSpec, target: EventTargetSpec, event: dict[str, Any]) -> None:
        try:
            message = _input(target, event)
        except TemplateError as exc:
            self._dead_letter(rule, target, event, "InvalidInput", str(exc))
            return
        delay, error = RETRY_BASE_SECONDS, ""
        for attempt in range(1 + max(0, target.maximum_retry_attempts)):
            if attempt:
                self._count(rule, "retried")
                if self._stop.wait(delay):
                    return
                delay = min(RETRY_MAX_SECONDS, delay * 2)
            try:
                self._send(target, message)
            except Exception as exc:  # retried, as EventBridge retries a failed target
                error = f"{type(exc).__name__}: {exc}"
                continue
            finally:
                self._on_attempt()
            self._count(rule, "published")
            return
        self._dead_letter(rule, target, event, "RetriesExhausted", error)

    def _count(self, rule: EventRuleSpec, outcome: str) -> None:
        """One more ``outcome`` (a field of ``RuleCounts``) for ``rule``."""
        with self._counting:
            counts = self.counts[rule.name]
            setattr(counts, outcome, getattr(counts, outcome) + 1)

    def _send(self, target: EventTargetSpec, message: str) -> None:
        """Publish ``message`` to the target's topic, or send it to the target's queue."""
        if target.topic is not None:
            self._sns.publish(TopicArn=self._endpoints.topic_arns[target.topic], Message=message)
        elif target.queue is not None:
            self._sqs.send_message(QueueUrl=self._endpoints.queue_urls[target.queue], MessageBody=message)

    def _dead_letter(
        self, rule: EventRuleSpec, target: EventTargetSpec, event: Mapping[str, Any], code: str, message: str
    ) -> None:
        """What a rule's target sends to its DLQ: the event, with the rule, target and error named."""
        print(f"[bus] {rule.name}: {code}: {message}", file=sys.stderr, flush=True)
        self._count(rule, "dead_lettered")
        if target.dead_letter_queue is None:
            return
        attributes = {
            "RULE_ARN": f"arn:aws:events:{self._region}:{self._account}:rule/{self.name}/{rule.name}",
            "TARGET_ARN": self._endpoints.arn(target),
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message[:256] or code,
        }
        self._dead_letters.send_message(
            QueueUrl=self._endpoints.queue_urls[target.dead_letter_queue],
            MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )


def _input(target: EventTargetSpec, event: Mapping[str, Any]) -> str:
    """What the target is sent for ``event``: its input transformer's message, the JSON of the value at
    its input path (``{"S": "..."}`` for a stream record's string attribute), or the event."""
    if target.input_template:
        return transform(target.input_paths, target.input_template, event)
    if target.input_path:
        return json.dumps(select(event, target.input_path))
    return json.dumps(event)
