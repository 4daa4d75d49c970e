"""Regional WAFv2 web ACL in front of the API stage, with logging."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
)
from constructs import Construct

from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.logs import encrypted_log_group
from card_transactions.stacks.constructs.policy import allow, condition, policy_document, principals

API_KEY_HEADER = "x-api-key"
# WAF keeps sampled requests three hours with every header and the full URI, unredacted (redaction
# applies to logging only): an API key value or a card number in a path would be readable by anyone
# with wafv2:GetSampledRequests. The ACL's log has every request, with the sensitive parts redacted.
SAMPLED_REQUESTS = False


@dataclass(frozen=True)
class RuleActionOverride:
    """A managed group's rule with another action (``GROUP:RULE=ACTION``, WAF_RULE_ACTION_OVERRIDES)."""

    group: str
    rule: str
    action: str

    @classmethod
    def parse(cls, text: str) -> RuleActionOverride:
        group_rule, action = text.split("=")
        group, rule = group_rule.split(":")
        return cls(group, rule, action)


@dataclass(frozen=True)
class RateLimits:
    """The two rate-based rules: per API key (``x-api-key``) and per client IP, over one window."""

    per_api_key: int
    per_ip: int
    window_seconds: int


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=SAMPLED_REQUESTS
    )


def _rate_rule(name: str, priority: int, limit: int, window: int, per_api_key: bool) -> Wafv2WebAclRule:
    """A rate-based block rule, aggregated on the ``x-api-key`` header or on the client IP."""
    aggregation: dict[str, object] = {"aggregate_key_type": "IP"}
    if per_api_key:
        header = {"name": API_KEY_HEADER, "text_transformation": [{"priority": 0, "type": "NONE"}]}
        aggregation = {"aggregate_key_type": "CUSTOM_KEYS", "custom_key": [{"header": [header]}]}
    return Wafv2WebAclRule(
        name=name,
        priority=priority,
        action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
        statement={
            "rate_based_statement": [{"limit": limit, "evaluation_window_sec": window, **aggregation}]
        },
        visibility_config=_visibility(name),
    )


def _rules(
    managed_rule_groups: Sequence[str], overrides: Sequence[RuleActionOverride], rate_limits: RateLimits
) -> list[Wafv2WebAclRule]:
    """The two rate-based rules first, then each managed group with its rule action overrides."""
    rules = [
        _rate_rule("RateLimitPerApiKey", 0, rate_limits.per_api_key, rate_limits.window_seconds, True),
        _rate_rule("RateLimitPerIp", 1, rate_limits.per_ip, rate_limits.window_seconds, False),
    ]
    for group in managed_rule_groups:
        statement: dict[str, object] = {"name": group, "vendor_name": "AWS"}
        own = [o for o in overrides if o.group == group]
        if own:
            statement["rule_action_override"] = [
                {"name": o.rule, "action_to_use": [{o.action: [{}]}]} for o in own
            ]
        rules.append(
            Wafv2WebAclRule(
                name=group,
                priority=len(rules),
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": [statement]},
                visibility_config=_visibility(group),
            )
        )
    return rules


class ApiFirewall(Construct):
    """Web ACL for the public REST API stage (PCI DSS 6.4.2).

    Default settings (``settings/catalog.py``, docs/waf.md): the API is called by servers, so
      * two rate-based block rules come first: per API key (a custom key on the ``x-api-key`` header,
        limit derived from the usage plans) and a coarse per-IP backstop (requests without a key, or
        rotating keys); requests without the header are not counted by the per-key rule;
      * then the AWS managed rule groups given (IP reputation, anonymous IPs with
        ``HostingProviderIPList`` only counted so merchant servers on cloud hosting get through, known
        bad inputs with Log4JRCE, the common rule set), with the given rule action overrides;
      * CloudWatch metrics on every rule, no sampled requests (WAF would keep them unredacted), full
        logging to a KMS-encrypted ``aws-waf-logs-*`` group with the ``x-api-key`` header, the URI path
        and the query string redacted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        managed_rule_groups: Sequence[str],
        overrides: Sequence[RuleActionOverride],
        rate_limits: RateLimits,
        stage_arn: str,
        kms_key_arn: str,
        retention_days: int,
        account: Account,
    ) -> None:
        super().__init__(scope, id_)
        self.web_acl = Wafv2WebAcl(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            description="Protects the transaction API",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=_rules(managed_rule_groups, overrides, rate_limits),
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=SAMPLED_REQUESTS
            ),
        )
        Wafv2WebAclAssociation(self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.arn)
        self._logging(name, kms_key_arn, retention_days, account)

    def _logging(self, name: str, kms_key_arn: str, retention_days: int, account: Account) -> None:
        """Full logging to an encrypted ``aws-waf-logs-*`` group, the key, path and query redacted."""
        account_id, partition, region = account.account_id, account.partition, account.region
        log_group = encrypted_log_group(
            self,
            "LogGroup",
            name=f"aws-waf-logs-{name}",
            kms_key_arn=kms_key_arn,
            retention_days=retention_days,
            card_data_partition=account.partition,
        )
        delivery = policy_document(
            self,
            "LogDeliveryPolicy",
            [
                allow(
                    "WafLogDelivery",
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [f"{log_group.arn}:*"],
                    principals=principals("Service", "delivery.logs.amazonaws.com"),
                    condition=[
                        condition("StringEquals", "aws:SourceAccount", account_id),
                        condition(
                            "ArnLike", "aws:SourceArn", f"arn:{partition}:logs:{region}:{account_id}:*"
                        ),
                    ],
                )
            ],
        )
        log_policy = CloudwatchLogResourcePolicy(
            self, "LogDelivery", policy_name=f"{name}-waf-log-delivery", policy_document=delivery.json
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[log_group.arn],
            # The path and query can carry whatever a client put there (a card number in
            # GET /transaction/<id>): redacted like the API key.
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(single_header={"name": API_KEY_HEADER}),
                Wafv2WebAclLoggingConfigurationRedactedFields(uri_path={}),
                Wafv2WebAclLoggingConfigurationRedactedFields(query_string={}),
            ],
            depends_on=[log_policy],
        )
