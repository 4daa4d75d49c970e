"""SQS queues: the transactions queue, its dead-letter queue, and the functions' async-failure queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktf_cdktf_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from constructs import Construct

from card_transactions.stacks.constructs.policy import (
    Statement,
    allow,
    condition,
    deny_insecure_transport,
    deny_other_principals,
    policy_document,
    principals,
)

FOURTEEN_DAYS = 14 * 24 * 3600
FOUR_DAYS = 4 * 24 * 3600
# What a Lambda event source mapping needs of its queue (its function's role): it polls, deletes what
# the function handled, and reads the queue's attributes; a failed record comes back after the
# visibility timeout, so nothing changes a message's visibility.
CONSUME_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# Taking messages off a queue, or hiding them, is denied to every other principal (reading its
# attributes stays open: plans and dashboards do).
TAKE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")
# What only the deploy role may do to a queue when one is named (reading attributes stays open: plans).
MANAGE_ACTIONS = (
    "sqs:SetQueueAttributes",
    "sqs:AddPermission",
    "sqs:RemovePermission",
    "sqs:PurgeQueue",
    "sqs:DeleteQueue",
    "sqs:TagQueue",
    "sqs:UntagQueue",
    "sqs:StartMessageMoveTask",
    "sqs:CancelMessageMoveTask",
)


@dataclass(frozen=True)
class QueueAccess:
    """Who may use a queue, by role ARN: send, consume (receive, delete, change visibility), manage.
    Empty ``senders`` or ``consumers`` deny that to every IAM principal; ``consumers=None`` and no
    ``managers`` leave consuming and managing to IAM. ``purgers`` may purge beside the managers.
    EventBridge sends for the rules ``event_rules`` (ARNs): their targets' deliveries or dead letters."""

    senders: Sequence[str] = ()
    consumers: Sequence[str] | None = ()
    managers: Sequence[str] = ()
    purgers: Sequence[str] = ()
    event_rules: Sequence[str] = ()


class EncryptedQueue(Construct):
    """A standard queue encrypted with the stack's key, reachable only over TLS.

    Default settings: SSE-KMS with the customer-managed key (5-minute data-key reuse), long polling
    (20 s). ``restrict`` adds the queue policy: any request without ``aws:SecureTransport`` denied, and
    sending, consuming and managing denied to every IAM principal but the roles named for each.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        kms_key_arn: str,
        visibility_timeout_seconds: int,
        retention_seconds: int,
        dead_letter: EncryptedQueue | None = None,
        max_receive_count: int = 3,
    ) -> None:
        super().__init__(scope, id_)
        redrive = (
            Fn.jsonencode({"deadLetterTargetArn": dead_letter.arn, "maxReceiveCount": max_receive_count})
            if dead_letter
            else None
        )
        self.queue = SqsQueue(
            self,
            "Queue",
            name=name,
            kms_master_key_id=kms_key_arn,
            kms_data_key_reuse_period_seconds=300,
            visibility_timeout_seconds=visibility_timeout_seconds,
            message_retention_seconds=retention_seconds,
            receive_wait_time_seconds=20,
            redrive_policy=redrive,
        )
        self.name = name
        self.arn: str = self.queue.arn
        self.url = self.queue.url

    def restrict(self, access: QueueAccess) -> None:
        """The queue policy: TLS only, and only ``access``'s roles send, consume or manage (call once)."""
        statements = [
            deny_insecure_transport(["sqs:*"], [self.arn]),
            deny_other_principals("OnlyNamedSenders", ["sqs:SendMessage"], [self.arn], access.senders),
        ]
        if access.event_rules:
            statements.append(
                allow(
                    "NamedEventRulesSend",
                    ["sqs:SendMessage"],
                    [self.arn],
                    principals=principals("Service", "events.amazonaws.com"),
                    condition=[condition("ArnEquals", "aws:SourceArn", *access.event_rules)],
                )
            )
        if access.consumers is not None:
            statements.append(
                deny_other_principals("OnlyNamedConsumers", TAKE_ACTIONS, [self.arn], access.consumers)
            )
        if access.managers and access.purgers:
            managed = [a for a in MANAGE_ACTIONS if a != "sqs:PurgeQueue"]
            purgers = [*access.managers, *access.purgers]
            statements += [
                deny_other_principals("OnlyTheDeployRoleManages", managed, [self.arn], access.managers),
                deny_other_principals("OnlyNamedPurgers", ["sqs:PurgeQueue"], [self.arn], purgers),
            ]
        elif access.managers:
            statements.append(
                deny_other_principals("OnlyTheDeployRoleManages", MANAGE_ACTIONS, [self.arn], access.managers)
            )
        policy = policy_document(self, "AccessPolicy", statements)
        SqsQueuePolicy(self, "Policy", queue_url=self.url, policy=policy.json)

    def allow_consume(self, sid: str) -> Statement:
        return allow(sid, CONSUME_ACTIONS, [self.arn])


class TransactionQueues(Construct):
    """The transactions queue, its DLQ (redrive after ``max_receive_count`` receives, kept 14 days),
    and a queue for failed asynchronous invocations: the functions' dead-letter target, which receives
    the scheduled reconciler's invocations that failed for good (Lambda's own retries included) and
    those EventBridge Scheduler could not deliver (the SQS-triggered functions are never invoked
    asynchronously).

    Default settings: visibility timeout 6x the consumer's timeout (AWS guidance for event source
    mappings); the DLQ accepts redrive only from the transactions queue. ``restrict`` writes the three
    queue policies from the stack's roles, in one place.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        queue_name: str,
        dlq_name: str,
        async_failures_name: str,
        kms_key_arn: str,
        consumer_timeout_seconds: int,
        dlq_consumer_timeout_seconds: int,
        max_receive_count: int,
    ) -> None:
        super().__init__(scope, id_)
        self.dlq = EncryptedQueue(
            self,
            "DeadLetterQueue",
            name=dlq_name,
            kms_key_arn=kms_key_arn,
            visibility_timeout_seconds=6 * dlq_consumer_timeout_seconds,
            retention_seconds=FOURTEEN_DAYS,
        )
        self.queue = EncryptedQueue(
            self,
            "TransactionQueue",
            name=queue_name,
            kms_key_arn=kms_key_arn,
            visibility_timeout_seconds=6 * consumer_timeout_seconds,
            retention_seconds=FOUR_DAYS,
            dead_letter=self.dlq,
            max_receive_count=max_receive_count,
        )
        SqsQueueRedriveAllowPolicy(
            self,
            "DeadLetterRedriveAllow",
            queue_url=self.dlq.url,
            redrive_allow_policy=Fn.jsonencode(
                {"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}
            ),
        )
        self.async_failures = EncryptedQueue(
            self,
            "AsyncFailureQueue",
            name=async_failures_name,
            kms_key_arn=kms_key_arn,
            visibility_timeout_seconds=30,
            retention_seconds=FOURTEEN_DAYS,
        )

    def restrict(
        self,
        *,
        enqueue_rules: Sequence[str],
        consumers: Sequence[str],
        dead_letter_consumers: Sequence[str],
        async_failure_senders: Sequence[str],
        managers: Sequence[str] = (),
        operators: Sequence[str] = (),
    ) -> None:
        """Queue policies naming their principals (ARNs): EventBridge sends transactions for the rules
        ``enqueue_rules`` only (from the table's stream; no IAM principal sends), ``consumers`` score them,
        ``dead_letter_consumers`` read the DLQ (which nobody sends to: SQS moves messages there itself),
        ``async_failure_senders`` (the functions, for their failed asynchronous invocations, and the
        schedule's role, for invocations it could not deliver) send to the async-failure queue.
        ``operators`` (the on-call role) purge the async-failure queue once its cause is fixed."""
        self.queue.restrict(
            QueueAccess(senders=(), consumers=consumers, managers=managers, event_rules=enqueue_rules)
        )
        self.dlq.restrict(QueueAccess(senders=(), consumers=dead_letter_consumers, managers=managers))
        # Operators read failed asynchronous invocations: consuming them is left to IAM.
        self.async_failures.restrict(
            QueueAccess(senders=async_failure_senders, consumers=None, managers=managers, purgers=operators)
        )
