"""EventBridge Scheduler: invoke a function on a fixed rate, with its own least-privilege role."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
)
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import Statement, allow, policy_document, service_role

RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 300  # a run that could not start within 5 minutes is superseded by the next one


def rate_expression(minutes: int) -> str:
    return f"rate({minutes} minute{'' if minutes == 1 else 's'})"


def invoke_function(function_arn: str) -> Statement:
    return allow("InvokeScheduledFunction", ["lambda:InvokeFunction"], [function_arn])


def send_undeliverable(queue_arn: str) -> Statement:
    return allow("SendUndeliverableInvocations", ["sqs:SendMessage"], [queue_arn])


def use_key(kms_key_arn: str) -> Statement:
    """Decrypt the schedule's payload (encrypted with the key) and write to the encrypted DLQ."""
    return allow("UseTransactionKey", ["kms:Decrypt", "kms:GenerateDataKey"], [kms_key_arn])


class FunctionSchedule(Construct):
    """Invokes ``function_arn`` every ``every_minutes`` minutes.

    Default settings: no flexible window; the schedule's data is encrypted with the customer-managed key;
    2 retries within 5 minutes, then the invocation goes to ``dead_letter_arn`` (which alarms); its own
    role, assumable only by EventBridge Scheduler for this account, may invoke this one function, send to
    that one queue and use the key, nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        description: str,
        function_arn: str,
        every_minutes: int,
        dead_letter_arn: str,
        kms_key_arn: str,
        account: Account,
    ) -> None:
        super().__init__(scope, id_)
        self.role = service_role(
            self,
            "Role",
            name=f"{name}-scheduler-role",
            service="scheduler.amazonaws.com",
            account_id=account.account_id,
            description=f"EventBridge Scheduler role of {name}",
        )
        permissions = policy_document(
            self,
            "Permissions",
            [invoke_function(function_arn), send_undeliverable(dead_letter_arn), use_key(kms_key_arn)],
        )
        role_policy = IamRolePolicy(
            self,
            "RolePolicy",
            name=f"{name}-scheduler-permissions",
            role=self.role.id,
            policy=permissions.json,
        )
        self.schedule = SchedulerSchedule(
            self,
            "Schedule",
            name=name,
            description=description,
            schedule_expression=rate_expression(every_minutes),
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            kms_key_arn=kms_key_arn,
            state="ENABLED",
            target=SchedulerScheduleTarget(
                arn=function_arn,
                role_arn=self.role.arn,
                input='{"source": "scheduler"}',
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=dead_letter_arn),
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS
                ),
            ),
            depends_on=[role_policy],
        )
