"""SNS topic for fraud and failure alerts."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from stacks.constructs.account import Account
from stacks.constructs.policy import (
    Statement,
    allow,
    condition,
    deny_insecure_transport,
    policy_document,
    principals,
)


class AlertsTopic(Construct):
    """Fraud, failure and alarm notifications.

    Default settings: encrypted with the customer-managed key; the topic policy denies any request
    without TLS and lets CloudWatch alarms of this account (and only them) publish.
    """

    def __init__(self, scope: Construct, id_: str, *, name: str, kms_key_arn: str, account: Account) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "Topic", name=name, kms_master_key_id=kms_key_arn)
        self.arn = self.topic.arn
        policy = policy_document(
            self,
            "TopicPolicy",
            [
                deny_insecure_transport(["sns:Publish", "sns:Subscribe", "sns:Receive"], [self.arn]),
                allow(
                    "CloudWatchAlarmsPublish",
                    ["sns:Publish"],
                    [self.arn],
                    principals=principals("Service", "cloudwatch.amazonaws.com"),
                    condition=[condition("StringEquals", "aws:SourceAccount", account.account_id)],
                ),
            ],
        )
        SnsTopicPolicy(self, "Policy", arn=self.arn, policy=policy.json)

    def allow_publish(self, sid: str = "PublishAlerts") -> Statement:
        return allow(sid, ["sns:Publish"], [self.arn])
