"""Regional WAFv2 web ACL in front of the API stage, with logging."""

from __future__ import annotations

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

from stacks.constructs.account import Account
from stacks.constructs.logs import encrypted_log_group
from stacks.constructs.policy import allow, condition, policy_document, principals

# AWS managed rule groups, in evaluation order (cheapest, most decisive first).
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)


def _visibility(metric: str) -> Wafv2WebAclRuleVisibilityConfig:
    return Wafv2WebAclRuleVisibilityConfig(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class ApiFirewall(Construct):
    """Web ACL for the public REST API stage (PCI DSS 6.4.2).

    Default settings: the four AWS managed rule groups above with no rule excluded (Log4JRCE included),
    a per-IP rate-based block rule, CloudWatch metrics and sampled requests on every rule, full
    logging to a KMS-encrypted ``aws-waf-logs-*`` group with the ``x-api-key`` header redacted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        rate_limit_per_5min: int,
        stage_arn: str,
        kms_key_arn: str,
        retention_days: int,
        account: Account,
    ) -> None:
        super().__init__(scope, id_)
        account_id, partition, region = account.account_id, account.partition, account.region
        rules = [
            Wafv2WebAclRule(
                name=group,
                priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": [{"name": group, "vendor_name": "AWS"}]},
                visibility_config=_visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            Wafv2WebAclRule(
                name="RateLimitPerIp",
                priority=len(MANAGED_RULE_GROUPS),
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": [{"limit": rate_limit_per_5min, "aggregate_key_type": "IP"}]
                },
                visibility_config=_visibility("RateLimitPerIp"),
            )
        )
        self.web_acl = Wafv2WebAcl(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            description="Protects the transaction API",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            ),
        )
        Wafv2WebAclAssociation(self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.arn)
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
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(single_header={"name": "x-api-key"})
            ],
            depends_on=[log_policy],
        )
