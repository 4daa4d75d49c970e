"""Alerts from the committed state: the transactions table's change stream -> EventBridge Pipes -> SNS.

A transaction's alert exists exactly when its record makes the transition: each pipe reads the stream,
keeps only the records of its transitions (filters on the old and new images) and publishes a message
shaped by its input template to the alerts topic. No function publishes, nothing is marked as sent.

* ``FraudAlerts``: PENDING_FRAUD_CHECK (or no record) -> FRAUD_SUSPECTED (and -> REVIEW_REQUIRED when
  ``ALERT_ON_REVIEW_REQUIRED``); the message of the fraud alert.
* ``DeadLetterAlerts``: a dead-lettered transaction made FAILED (from pending, or created FAILED), or
  kept pending for the reconciler (``failure_reason`` PROCESSING_RETRIES_EXHAUSTED appears).

The templates name identifiers, amounts and verdicts only: no cardholder data, no metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.pipes_pipe import (
    PipesPipe,
    PipesPipeSourceParameters,
    PipesPipeSourceParametersDynamodbStreamParameters,
    PipesPipeSourceParametersDynamodbStreamParametersDeadLetterConfig,
    PipesPipeSourceParametersFilterCriteria,
    PipesPipeSourceParametersFilterCriteriaFilter,
    PipesPipeTargetParameters,
)
from constructs import Construct

from stacks.constructs.account import Account
from stacks.constructs.policy import allow, policy_document, service_role
from stacks.constructs.queues import FOURTEEN_DAYS, EncryptedQueue, QueueAccess

PENDING = "PENDING_FRAUD_CHECK"
RETRIES_EXHAUSTED = "PROCESSING_RETRIES_EXHAUSTED"
NEW = "$.dynamodb.NewImage"
# Delivery: retried with exponential back-off for up to an hour, then the record goes to the DLQ.
MAXIMUM_RETRY_ATTEMPTS = 10
MAXIMUM_RECORD_AGE_SECONDS = 3600
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def _string(attribute: str) -> str:
    return f'"<{NEW}.{attribute}.S>"'


def _number(attribute: str) -> str:
    return f"<{NEW}.{attribute}.N>"


def _template(fields: Sequence[tuple[str, str]]) -> str:
    """A JSON object template: constants are JSON-encoded, ``<$.path>`` placeholders written as given."""
    return "{" + ", ".join(f"{json.dumps(name)}: {value}" for name, value in fields) + "}"


FRAUD_TEMPLATE = _template(
    [
        ("alert_type", '"FRAUD"'),
        ("transaction_id", _string("transaction_id")),
        ("merchant_id", _string("merchant_id")),
        ("amount", f'"<{NEW}.amount.N>"'),
        ("currency", _string("currency")),
        ("status", _string("status")),
        ("fraud_score", _number("fraud_score")),
        ("reasons", f"<{NEW}.reasons.L[*].S>"),
        ("received_at", _string("received_at")),
    ]
)
DEAD_LETTER_TEMPLATE = _template(
    [
        ("alert_type", '"TRANSACTION_DEAD_LETTERED"'),
        ("transaction_id", _string("transaction_id")),
        ("status", _string("status")),
        ("failure_reason", _string("failure_reason")),
        ("receive_count", _number("receive_count")),
    ]
)


def _status(*values: str) -> dict[str, Any]:
    return {"status": {"S": list(values)}}


def _pattern(events: Sequence[str], new: dict[str, Any], old: dict[str, Any] | None = None) -> str:
    dynamodb: dict[str, Any] = {"NewImage": new}
    if old is not None:
        dynamodb["OldImage"] = old
    return json.dumps({"eventName": list(events), "dynamodb": dynamodb}, sort_keys=True)


def fraud_filters(alert_on_review_required: bool) -> list[str]:
    """The verdict transitions that alert: from pending, or a verdict written where the pending record
    was missing (``finalize`` creates it then)."""
    verdicts = _status("FRAUD_SUSPECTED", *(["REVIEW_REQUIRED"] if alert_on_review_required else []))
    return [_pattern(["MODIFY"], verdicts, _status(PENDING)), _pattern(["INSERT"], verdicts)]


def dead_letter_filters() -> list[str]:
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


@dataclass(frozen=True)
class AlertRoute:
    """One pipe: its construct id, name suffix, filters and input template."""

    construct_id: str
    suffix: str
    filters: Sequence[str]
    template: str


def alert_routes(alert_on_review_required: bool) -> tuple[AlertRoute, ...]:
    return (
        AlertRoute("FraudAlerts", "fraud", fraud_filters(alert_on_review_required), FRAUD_TEMPLATE),
        AlertRoute("DeadLetterAlerts", "dead-letters", dead_letter_filters(), DEAD_LETTER_TEMPLATE),
    )


class AlertPipes(Construct):
    """The alert pipes from ``stream_arn`` to ``topic_arn``, their role and their dead-letter queue.

    Default settings: each pipe's data encrypted with the customer-managed key; starts at the stream's
    latest record, one record per delivery, retried up to ``MAXIMUM_RETRY_ATTEMPTS`` times within
    ``MAXIMUM_RECORD_AGE_SECONDS``, then sent to ``dlq`` (encrypted with the key, kept 14 days, its
    policy written by ``restrict``); one role, assumable only by EventBridge Pipes for this account,
    may read this one stream, publish to this one topic, send to this one queue and use the key.
    Two pipes: DynamoDB Streams serves at most two readers per shard without throttling.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        stream_arn: str,
        topic_arn: str,
        kms_key_arn: str,
        account: Account,
        alert_on_review_required: bool,
    ) -> None:
        super().__init__(scope, id_)
        self.dlq = EncryptedQueue(
            self,
            "DeadLetterQueue",
            name=f"{name}-dlq",
            kms_key_arn=kms_key_arn,
            visibility_timeout_seconds=30,
            retention_seconds=FOURTEEN_DAYS,
        )
        self.role = service_role(
            self,
            "Role",
            name=f"{name}-pipes-role",
            service="pipes.amazonaws.com",
            account_id=account.account_id,
            description=f"EventBridge Pipes role of {name}",
        )
        permissions = policy_document(
            self,
            "Permissions",
            [
                allow("ReadTransactionStream", STREAM_READ_ACTIONS, [stream_arn]),
                allow("PublishAlerts", ["sns:Publish"], [topic_arn]),
                allow("SendUndeliveredAlerts", ["sqs:SendMessage"], [self.dlq.arn]),
                allow("UseTransactionKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn]),
            ],
        )
        role_policy = IamRolePolicy(
            self,
            "RolePolicy",
            name=f"{name}-pipes-permissions",
            role=self.role.id,
            policy=permissions.json,
        )
        filters = PipesPipeSourceParametersFilterCriteriaFilter
        self.pipes = [
            PipesPipe(
                self,
                route.construct_id,
                name=f"{name}-{route.suffix}",
                description=f"Alerts of {route.suffix} transitions from the transactions table's stream",
                role_arn=self.role.arn,
                source=stream_arn,
                target=topic_arn,
                kms_key_identifier=kms_key_arn,
                desired_state="RUNNING",
                source_parameters=PipesPipeSourceParameters(
                    dynamodb_stream_parameters=PipesPipeSourceParametersDynamodbStreamParameters(
                        starting_position="LATEST",
                        batch_size=1,
                        maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS,
                        maximum_record_age_in_seconds=MAXIMUM_RECORD_AGE_SECONDS,
                        dead_letter_config=PipesPipeSourceParametersDynamodbStreamParametersDeadLetterConfig(
                            arn=self.dlq.arn
                        ),
                    ),
                    filter_criteria=PipesPipeSourceParametersFilterCriteria(
                        filter=[filters(pattern=p) for p in route.filters]
                    ),
                ),
                target_parameters=PipesPipeTargetParameters(input_template=route.template),
                depends_on=[role_policy],
            )
            for route in alert_routes(alert_on_review_required)
        ]

    def restrict(self, managers: Sequence[str] = ()) -> None:
        """The DLQ's policy: TLS only, only the pipes' role sends; operators read it (consuming is left
        to IAM)."""
        self.dlq.restrict(QueueAccess(senders=[self.role.arn], consumers=None, managers=managers))
