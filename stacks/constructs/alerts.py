"""SNS topic for fraud and failure alerts, and the people and systems subscribed to it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.policy import (
    Statement,
    allow,
    condition,
    deny_insecure_transport,
    deny_other_principals,
    policy_document,
    principals,
)

# What only the deploy role may do to the topic when one is named.
MANAGE_ACTIONS = (
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:PutDataProtectionPolicy",
    "sns:TagResource",
    "sns:UntagResource",
)


class AlertsTopic(Construct):
    """Fraud, failure and alarm notifications.

    Default settings: encrypted with the customer-managed key; ``restrict`` adds the topic policy:
    any request without TLS denied, CloudWatch alarms of this account allowed to publish (by
    ``aws:SourceArn``), every other IAM principal but the named publisher roles denied publishing, and
    every IAM principal denied subscribing any endpoint but the configured ones. One
    subscription per e-mail address and HTTPS endpoint (each must confirm before SNS delivers to it; raw
    message delivery off, so HTTPS endpoints get the signed SNS envelope they can verify). Construct ids
    derive from the endpoint, so adding or removing one never replaces the others.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        kms_key_arn: str,
        account: Account,
        emails: Sequence[str] = (),
        https_endpoints: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "Topic", name=name, kms_master_key_id=kms_key_arn)
        self.name = name
        self.arn = self.topic.arn
        self._account = account
        self.endpoints = (*emails, *https_endpoints)
        self.subscriptions = [self._subscribe("EmailSubscription", "email", email) for email in emails] + [
            self._subscribe("HttpsSubscription", "https", url) for url in https_endpoints
        ]

    def restrict(
        self, *, publishers: Sequence[str], event_rules: Sequence[str] = (), managers: Sequence[str] = ()
    ) -> None:
        """The topic policy (call once): TLS only; CloudWatch alarms of this account, EventBridge for the
        rules ``event_rules`` and the roles ``publishers`` (ARNs) publish, no other IAM principal; only
        ``managers`` change the topic."""
        account = self._account
        alarms = account.alarms
        statements = [
            deny_insecure_transport(["sns:Publish", "sns:Subscribe", "sns:Receive"], [self.arn]),
            allow(
                "CloudWatchAlarmsPublish",
                ["sns:Publish"],
                [self.arn],
                principals=principals("Service", "cloudwatch.amazonaws.com"),
                condition=[
                    condition("StringEquals", "aws:SourceAccount", account.account_id),
                    condition("ArnLike", "aws:SourceArn", alarms),
                ],
            ),
            deny_other_principals("OnlyNamedPublishers", ["sns:Publish"], [self.arn], publishers),
            self._only_configured_endpoints(),
        ]
        if event_rules:
            statements.append(
                allow(
                    "EventRulesPublish",
                    ["sns:Publish"],
                    [self.arn],
                    principals=principals("Service", "events.amazonaws.com"),
                    condition=[condition("ArnEquals", "aws:SourceArn", *event_rules)],
                )
            )
        if managers:
            statements.append(
                deny_other_principals("OnlyTheDeployRoleManages", MANAGE_ACTIONS, [self.arn], managers)
            )
        policy = policy_document(self, "TopicPolicy", statements)
        SnsTopicPolicy(self, "Policy", arn=self.arn, policy=policy.json)

    def _only_configured_endpoints(self) -> Statement:
        """No IAM principal subscribes any endpoint but the configured ones (none: no subscription at
        all), so nobody in the account can route alerts to an outside address."""
        conditions = [condition("Null", "aws:PrincipalArn", "false")]
        if self.endpoints:
            conditions.insert(0, condition("StringNotEquals", "sns:Endpoint", *self.endpoints))
        return Statement(
            sid="OnlyConfiguredSubscriptions",
            effect="Deny",
            actions=["sns:Subscribe"],
            resources=[self.arn],
            principals=principals("*", "*"),
            condition=conditions,
        )

    def _subscribe(self, kind: str, protocol: str, endpoint: str) -> SnsTopicSubscription:
        digest = hashlib.sha256(endpoint.encode()).hexdigest()[:10]
        return SnsTopicSubscription(
            self, f"{kind}{digest}", topic_arn=self.arn, protocol=protocol, endpoint=endpoint
        )

    def allow_publish(self, sid: str = "PublishAlerts") -> Statement:
        return allow(sid, ["sns:Publish"], [self.arn])
