"""The on-call engineer's permissions: exactly what docs/runbooks.md runs, as one managed policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import Statement, allow, policy_document

# CloudWatch has no resource-level permissions for reading metrics: IAM takes only "*" for it.
METRIC_READ_ACTIONS = ("cloudwatch:GetMetricStatistics", "cloudwatch:GetMetricData")


@dataclass(frozen=True)
class OperatedResources:
    """What the runbooks look at or act on, by ARN (``replay`` is what ``make replay`` needs on the table,
    written by the table's own ``allow`` helper: the reconciler's query and touch, which the table's
    stream turns into the re-enqueue)."""

    replay: Sequence[Statement]
    queue_arns: Sequence[str]
    async_failure_queue_arn: str
    alert_dlq_arn: str
    transaction_table_arn: str
    transaction_stream_arn: str
    pipe_arns: Sequence[str]
    log_group_arns: Sequence[str]
    function_arns: Sequence[str]
    schedule_arn: str
    topic_arn: str
    kms_key_arn: str


def runbook_statements(resources: OperatedResources, account: Account) -> list[Statement]:
    """Read what an alarm points at; re-enqueue pending transactions; purge failed async invocations."""
    r = resources
    return [
        *r.replay,
        allow("FindTheQueues", ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"], list(r.queue_arns)),
        allow(
            "ReadAndPurgeFailedInvocations",
            ["sqs:ReceiveMessage", "sqs:PurgeQueue"],
            [r.async_failure_queue_arn],
        ),
        allow(
            "HandUndeliveredAlerts",
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            [r.alert_dlq_arn],
        ),
        allow("ReadTransactions", ["dynamodb:GetItem"], [r.transaction_table_arn]),
        allow(
            "ReadTheirChanges",
            ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"],
            [r.transaction_stream_arn],
        ),
        allow("ReadTheAlertPipes", ["pipes:DescribePipe"], list(r.pipe_arns)),
        # Only through the services (the key policy's kms:ViaService): queues, table, schedule, pipes.
        allow("UseTheKeyThroughServices", ["kms:Decrypt", "kms:GenerateDataKey"], [r.kms_key_arn]),
        allow(
            "ReadLogs",
            ["logs:FilterLogEvents"],
            [*r.log_group_arns, *(f"{arn}:*" for arn in r.log_group_arns)],
        ),
        allow(
            "ReadFunctions", ["lambda:GetFunction", "lambda:GetFunctionConfiguration"], list(r.function_arns)
        ),
        allow("ReadTheSchedule", ["scheduler:GetSchedule"], [r.schedule_arn]),
        allow("ListAlertSubscriptions", ["sns:ListSubscriptionsByTopic"], [r.topic_arn]),
        allow(
            "FindTheApi",
            ["apigateway:GET"],
            [f"arn:{account.partition}:apigateway:{account.region}::/restapis"],
        ),
        allow("ReadMetrics", METRIC_READ_ACTIONS, ["*"]),
    ]


class OperatorPolicy(Construct):
    """A customer-managed policy ``name`` for the role on-call engineers assume (``OPERATOR_ROLE_ARN``).

    Default settings: every statement names this stack's resources (metrics reads excepted: CloudWatch
    takes no resource there); no write but re-enqueueing pending transactions (the reconciler's own
    ``dynamodb:UpdateItem``: the touch the table's stream enqueues), purging the async-failure queue,
    which the queue policies admit only for the operator role, and deleting the alert dead letters
    handled by hand; the key only through the services that use it; no ``logs:Unmask``, no log
    deletion, no IAM. The stack creates the policy and never attaches it: the account's administrators
    attach it to the on-call role (output ``operator_policy_arn``).
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, resources: OperatedResources, account: Account
    ) -> None:
        super().__init__(scope, id_)
        self.document = policy_document(self, "Document", runbook_statements(resources, account))
        self.policy = IamPolicy(
            self,
            "Policy",
            name=name,
            description="What docs/runbooks.md runs as the operator: reads, replay, purging failures",
            policy=self.document.json,
        )
        self.arn = self.policy.arn
