"""What follows from the committed state: the transactions table's change stream -> one EventBridge pipe
-> an encrypted event bus -> one rule per route -> SNS (alerts) or SQS (the transactions queue).

A transaction's alert exists exactly when its record makes the transition, and its queue message exactly
when its pending record is committed (a transactional outbox: the table is the only write the API and
the reconciler make). One pipe reads the stream (a stream is billed per read, polled or not: one reader,
not one per route) and passes only the records of an alerting transition or an enqueue (filters on the
old and new images) to the bus; on the bus, each route's rule matches its own records with the same
filters and its target delivers them: an alert shaped by an input transformer to the alerts topic, or
the stored queue message to the transactions queue. No function publishes or sends, nothing is marked
as sent.

* ``FraudAlerts``: PENDING_FRAUD_CHECK (or no record) -> FRAUD_SUSPECTED (and -> REVIEW_REQUIRED when
  ``ALERT_ON_REVIEW_REQUIRED``); the message of the fraud alert.
* ``DeadLetterAlerts``: a dead-lettered transaction made FAILED (from pending, or created FAILED), or
  kept pending for the reconciler (``failure_reason`` PROCESSING_RETRIES_EXHAUSTED appears).
* ``Enqueue``: a pending record with its queue message and no ``failure_reason``: the validation
  function's put (INSERT) and the reconciler's touch (MODIFY); its ``message`` attribute, as the stream
  shows it (``{"S": "<message JSON>"}``), is the queue message's body.

The alert messages name identifiers, amounts and verdicts only: no cardholder data, no metadata.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_event_bus import CloudwatchEventBus
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetInputTransformer,
    CloudwatchEventTargetRetryPolicy,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.pipes_pipe import (
    PipesPipe,
    PipesPipeSourceParameters,
    PipesPipeSourceParametersDynamodbStreamParameters,
    PipesPipeSourceParametersDynamodbStreamParametersDeadLetterConfig,
    PipesPipeSourceParametersFilterCriteria,
    PipesPipeSourceParametersFilterCriteriaFilter,
    PipesPipeTargetParameters,
    PipesPipeTargetParametersEventbridgeEventBusParameters,
)
from constructs import Construct

from card_transactions.handlers.domain.records import enqueue_pattern
from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import allow, policy_document, service_role
from card_transactions.stacks.constructs.queues import FOURTEEN_DAYS, EncryptedQueue, QueueAccess

PENDING = "PENDING_FRAUD_CHECK"
RETRIES_EXHAUSTED = "PROCESSING_RETRIES_EXHAUSTED"
NEW = "$.detail.dynamodb.NewImage"
# The bus events the pipe writes: the stream record is their detail. The detail type predates the
# enqueue route and stays: renaming it would drop the events put between the pipe's and the rules'
# updates in a deployment.
EVENT_SOURCE = "transactions.stream"
EVENT_DETAIL_TYPE = "Transaction alerting transition"
# Delivery: the pipe retries the bus, each rule's target retries the topic or queue, with exponential
# back-off for up to an hour; then the record (the pipe) or the event (a target) goes to the alert DLQ.
# An undelivered enqueue needs no operator: its record stays pending and the reconciler re-drives it.
MAXIMUM_RETRY_ATTEMPTS = 10
MAXIMUM_RECORD_AGE_SECONDS = 3600
TARGET_RETRY_ATTEMPTS = 185  # EventBridge's maximum: the hour below bounds the retries
# Batches of one record, up to this many per shard at once: records of one key stay in order, and the
# hot path (every accepted transaction's enqueue) is not one PutEvents at a time per shard.
PARALLELIZATION_FACTOR = 10
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


@dataclass(frozen=True)
class Field:
    """One field of an alert message: a constant, or the value at ``path`` of the bus event (``quoted``:
    as a JSON string; else as JSON, a number's text or a list)."""

    name: str
    path: str | None = None
    constant: str | None = None
    quoted: bool = True


def _string(attribute: str) -> Field:
    return Field(attribute, f"{NEW}.{attribute}.S")


def _number(attribute: str) -> Field:
    return Field(attribute, f"{NEW}.{attribute}.N", quoted=False)


@dataclass(frozen=True)
class Message:
    """An alert message as an EventBridge input transformer: variables (paths) and a JSON template."""

    fields: Sequence[Field]

    @property
    def input_paths(self) -> dict[str, str]:
        return {f.name: f.path for f in self.fields if f.path is not None}

    @property
    def template(self) -> str:
        def value(f: Field) -> str:
            if f.path is None:
                return json.dumps(f.constant)
            return f'"<{f.name}>"' if f.quoted else f"<{f.name}>"

        return "{" + ", ".join(f"{json.dumps(f.name)}: {value(f)}" for f in self.fields) + "}"


FRAUD_MESSAGE = Message(
    (
        Field("alert_type", constant="FRAUD"),
        _string("transaction_id"),
        _string("merchant_id"),
        Field("amount", f"{NEW}.amount.N"),
        _string("currency"),
        _string("status"),
        _number("fraud_score"),
        Field("reasons", f"{NEW}.reasons.L[*].S", quoted=False),
        _string("received_at"),
    )
)
DEAD_LETTER_MESSAGE = Message(
    (
        Field("alert_type", constant="TRANSACTION_DEAD_LETTERED"),
        _string("transaction_id"),
        _string("status"),
        _string("failure_reason"),
        _number("receive_count"),
    )
)


def _status(*values: str) -> dict[str, Any]:
    return {"status": {"S": list(values)}}


def _pattern(events: Sequence[str], new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"NewImage": new}
    if old is not None:
        dynamodb["OldImage"] = old
    return {"eventName": list(events), "dynamodb": dynamodb}


def fraud_filters(alert_on_review_required: bool) -> list[dict[str, Any]]:
    """Stream records of the verdict transitions that alert: from pending, or a verdict written where the
    pending record was missing (``finalize`` creates it then)."""
    verdicts = _status("FRAUD_SUSPECTED", *(["REVIEW_REQUIRED"] if alert_on_review_required else []))
    return [_pattern(["MODIFY"], verdicts, _status(PENDING)), _pattern(["INSERT"], verdicts)]


def dead_letter_filters() -> list[dict[str, Any]]:
    """FAILED from pending or created FAILED; retries exhausted when ``failure_reason`` appears (the
    reconciler removes it when it re-enqueues, so each dead-lettering alerts once). ``exists`` matches
    leaf nodes only: the typed value ``S``."""
    exhausted = {**_status(PENDING), "failure_reason": {"S": [RETRIES_EXHAUSTED]}}
    return [
        _pattern(["MODIFY"], _status("FAILED"), _status(PENDING)),
        _pattern(["INSERT"], _status("FAILED")),
        _pattern(["MODIFY"], exhausted, {"failure_reason": {"S": [{"exists": False}]}}),
        _pattern(["INSERT"], exhausted),
    ]


def enqueue_filters() -> list[dict[str, Any]]:
    """The records that enqueue (``enqueue_pattern``: the validation function's put and the
    reconciler's touch)."""
    return [enqueue_pattern()]


@dataclass(frozen=True)
class Route(ABC):
    """One rule on the bus: its construct id and name suffix, and the stream records it takes (its
    filters)."""

    construct_id: str
    suffix: str
    filters: Sequence[dict[str, Any]]

    @property
    def record_filter(self) -> str:
        """The pipe's filter for this route's stream records (one filter: any of the transitions)."""
        return json.dumps(self._any_filter, sort_keys=True)

    @property
    def event_pattern(self) -> str:
        """The rule's pattern: the pipe's events whose detail (the record) is one of the transitions."""
        pattern = {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE], "detail": self._any_filter}
        return json.dumps(pattern, sort_keys=True)

    @property
    def _any_filter(self) -> dict[str, Any]:
        return dict(self.filters[0]) if len(self.filters) == 1 else {"$or": list(self.filters)}

    @property
    @abstractmethod
    def description(self) -> str:
        """The rule's description."""

    @abstractmethod
    def target_input(self) -> dict[str, Any]:
        """What the rule's target sends, as ``CloudwatchEventTarget`` arguments."""


@dataclass(frozen=True)
class AlertRoute(Route):
    """An alert kind: its target publishes ``message`` (an input transformer) to the alerts topic."""

    message: Message

    @property
    def description(self) -> str:
        return f"Alerts of {self.suffix} transitions, to the alerts topic"

    def target_input(self) -> dict[str, Any]:
        transformer = CloudwatchEventTargetInputTransformer(
            input_paths=self.message.input_paths, input_template=self.message.template
        )
        return {"input_transformer": transformer}


@dataclass(frozen=True)
class QueueRoute(Route):
    """Its target sends the event's value at ``input_path`` to the transactions queue."""

    input_path: str

    @property
    def description(self) -> str:
        return "Committed pending transactions: their stored message to the transactions queue"

    def target_input(self) -> dict[str, Any]:
        return {"input_path": self.input_path}


def alert_routes(alert_on_review_required: bool) -> tuple[AlertRoute, ...]:
    return (
        AlertRoute("FraudAlerts", "fraud", fraud_filters(alert_on_review_required), FRAUD_MESSAGE),
        AlertRoute("DeadLetterAlerts", "dead-letters", dead_letter_filters(), DEAD_LETTER_MESSAGE),
    )


# The stored ``message`` attribute as the stream shows it (``{"S": "<message JSON>"}``) is the body.
ENQUEUE_ROUTE = QueueRoute("Enqueue", "enqueue", enqueue_filters(), f"{NEW}.message")


class AlertPipes(Construct):
    """What the stream's committed changes set off: the pipe from ``stream_arn``, its role, the bus, one
    rule and target per route (each alert kind to ``topic_arn``; the enqueue to ``queue_arn``), and the
    dead-letter queue they share.

    Default settings: the pipe's data and the bus encrypted with the customer-managed key; the pipe
    starts at the stream's latest record, one record per delivery, up to ``PARALLELIZATION_FACTOR``
    deliveries per shard at once, retried up to ``MAXIMUM_RETRY_ATTEMPTS`` times within
    ``MAXIMUM_RECORD_AGE_SECONDS``; each target is retried within the same hour; then the record's place
    (pipe) or the event (target) goes to ``dlq`` (encrypted with the key, kept 14 days, its policy
    written by ``restrict``). The pipe's role, assumable only by EventBridge Pipes for this account, may
    read this one stream, put events on this one bus, send to its dead-letter queue and use the key.
    EventBridge publishes to the topic for the alert rules only (``rule_arns``, for the topic's policy)
    and sends to the transactions queue for the enqueue rule only (``enqueue_rule_arn``, for the queue's
    policy).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        stream_arn: str,
        topic_arn: str,
        queue_arn: str,
        kms_key_arn: str,
        account: Account,
        alert_on_review_required: bool,
    ) -> None:
        super().__init__(scope, id_)
        alerts = alert_routes(alert_on_review_required)
        self.dlq = EncryptedQueue(
            self,
            "DeadLetterQueue",
            name=f"{name}-dlq",
            kms_key_arn=kms_key_arn,
            visibility_timeout_seconds=30,
            retention_seconds=FOURTEEN_DAYS,
        )
        self.bus = CloudwatchEventBus(
            self,
            "Bus",
            name=name,
            description="Alerting transitions and enqueues of the transactions table, from its stream",
            kms_key_identifier=kms_key_arn,
        )
        self.role = service_role(
            self,
            "Role",
            name=f"{name}-pipes-role",
            service="pipes.amazonaws.com",
            account_id=account.account_id,
            description=f"EventBridge Pipes role of {name}",
        )
        role_policy = self._role_policy(name, stream_arn, kms_key_arn)
        self._pipe(name, stream_arn, kms_key_arn, [*alerts, ENQUEUE_ROUTE], role_policy)
        self.rules = [self._route(route, name, topic_arn, "alerts-topic") for route in alerts]
        self.enqueue_rule = self._route(ENQUEUE_ROUTE, name, queue_arn, "transactions-queue")

    def _role_policy(self, name: str, stream_arn: str, kms_key_arn: str) -> IamRolePolicy:
        """The pipe's role reads this stream, puts on this bus, sends to the DLQ, uses the key."""
        permissions = policy_document(
            self,
            "Permissions",
            [
                allow("ReadTransactionStream", STREAM_READ_ACTIONS, [stream_arn]),
                allow("PutAlertEvents", ["events:PutEvents"], [self.bus.arn]),
                allow("SendUndeliveredAlerts", ["sqs:SendMessage"], [self.dlq.arn]),
                allow("UseTransactionKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn]),
            ],
        )
        return IamRolePolicy(
            self,
            "RolePolicy",
            name=f"{name}-pipes-permissions",
            role=self.role.id,
            policy=permissions.json,
        )

    def _pipe(
        self,
        name: str,
        stream_arn: str,
        kms_key_arn: str,
        routes: Sequence[Route],
        role_policy: IamRolePolicy,
    ) -> None:
        Filter = PipesPipeSourceParametersFilterCriteriaFilter
        self.pipe = PipesPipe(
            self,
            "Pipe",
            name=name,
            description="Alerting transitions and enqueues from the transactions table's stream to the bus",
            role_arn=self.role.arn,
            source=stream_arn,
            target=self.bus.arn,
            kms_key_identifier=kms_key_arn,
            desired_state="RUNNING",
            source_parameters=PipesPipeSourceParameters(
                dynamodb_stream_parameters=PipesPipeSourceParametersDynamodbStreamParameters(
                    starting_position="LATEST",
                    batch_size=1,
                    parallelization_factor=PARALLELIZATION_FACTOR,
                    maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS,
                    maximum_record_age_in_seconds=MAXIMUM_RECORD_AGE_SECONDS,
                    dead_letter_config=PipesPipeSourceParametersDynamodbStreamParametersDeadLetterConfig(
                        arn=self.dlq.arn
                    ),
                ),
                filter_criteria=PipesPipeSourceParametersFilterCriteria(
                    filter=[Filter(pattern=route.record_filter) for route in routes]
                ),
            ),
            target_parameters=PipesPipeTargetParameters(
                eventbridge_event_bus_parameters=PipesPipeTargetParametersEventbridgeEventBusParameters(
                    source=EVENT_SOURCE, detail_type=EVENT_DETAIL_TYPE
                )
            ),
            depends_on=[role_policy],
        )

    def _route(self, route: Route, name: str, target_arn: str, target_id: str) -> CloudwatchEventRule:
        """The route's rule on the bus and its one target, ``target_arn`` (retried within the hour, then
        to the DLQ)."""
        rule = CloudwatchEventRule(
            self,
            route.construct_id,
            name=f"{name}-{route.suffix}",
            description=route.description,
            event_bus_name=self.bus.name,
            event_pattern=route.event_pattern,
            state="ENABLED",
        )
        CloudwatchEventTarget(
            self,
            f"{route.construct_id}Target",
            rule=rule.name,
            event_bus_name=self.bus.name,
            target_id=target_id,
            arn=target_arn,
            **route.target_input(),
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_retry_attempts=TARGET_RETRY_ATTEMPTS,
                maximum_event_age_in_seconds=MAXIMUM_RECORD_AGE_SECONDS,
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dlq.arn),
        )
        return rule

    @property
    def rule_arns(self) -> list[str]:
        """The alert rules: the only ones that publish to the topic."""
        return [rule.arn for rule in self.rules]

    @property
    def enqueue_rule_arn(self) -> str:
        """The enqueue rule: the only one that sends to the transactions queue."""
        return self.enqueue_rule.arn

    def restrict(self, managers: Sequence[str] = ()) -> None:
        """The DLQ's policy: TLS only; the pipe's role and EventBridge for these rules (alerts and the
        enqueue) send; operators read it (consuming is left to IAM)."""
        access = QueueAccess(
            senders=[self.role.arn],
            consumers=None,
            managers=managers,
            event_rules=[*self.rule_arns, self.enqueue_rule_arn],
        )
        self.dlq.restrict(access)
