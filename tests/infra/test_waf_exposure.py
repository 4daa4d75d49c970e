"""Every AWS managed WAF rule whose block can hit a request the OpenAPI document allows is listed, and
each is either counted by default or kept blocking for a written reason (docs/waf.md)."""

from __future__ import annotations

import json
from pathlib import Path

from card_transactions.stacks.config import Settings
from card_transactions.stacks.waf_exposure import KEPT_BLOCKING, MANAGED_RULES, exposed_rules

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs/openapi.json").read_text(encoding="utf-8"))
WAF_PAGE = (ROOT / "docs" / "waf.md").read_text(encoding="utf-8")

EXPOSED_BY_DEFAULT = [
    "AWSManagedRulesCommonRuleSet:NoUserAgent_HEADER",
    "AWSManagedRulesCommonRuleSet:EC2MetaDataSSRF_BODY",
    "AWSManagedRulesCommonRuleSet:GenericLFI_BODY",
    "AWSManagedRulesCommonRuleSet:GenericRFI_BODY",
    "AWSManagedRulesCommonRuleSet:CrossSiteScripting_BODY",
    "AWSManagedRulesKnownBadInputsRuleSet:JavaDeserializationRCE_BODY",
    "AWSManagedRulesKnownBadInputsRuleSet:JavaDeserializationRCE_URIPATH",
    "AWSManagedRulesKnownBadInputsRuleSet:ExploitablePaths_URIPATH",
    "AWSManagedRulesKnownBadInputsRuleSet:Log4JRCE_BODY",
    "AWSManagedRulesAnonymousIpList:HostingProviderIPList",
]


def _exposed(settings: Settings) -> list[str]:
    rules = exposed_rules(DOCUMENT, settings.max_body_bytes, settings.waf_managed_rule_groups)
    return [r.key for r in rules]


def test_the_rules_that_can_block_an_allowed_request_are_these():
    assert _exposed(Settings()) == EXPOSED_BY_DEFAULT


def test_each_exposed_rule_is_counted_by_default_or_kept_blocking_for_a_reason_the_docs_give():
    settings = Settings()
    counted = {o.removesuffix("=count") for o in settings.resolved_waf_rule_action_overrides}
    for rule in _exposed(settings):
        assert rule in counted or rule in KEPT_BLOCKING, rule
        assert rule.split(":")[1] in WAF_PAGE, f"docs/waf.md does not name {rule}"
    assert set(KEPT_BLOCKING) <= set(EXPOSED_BY_DEFAULT)
    assert not set(KEPT_BLOCKING) & counted


def test_a_body_limit_above_the_waf_s_8_kb_exposes_the_body_size_rule_which_is_counted():
    settings = Settings(max_body_bytes=16_384)
    assert "AWSManagedRulesCommonRuleSet:SizeRestrictions_BODY" in _exposed(settings)
    assert "AWSManagedRulesCommonRuleSet:SizeRestrictions_BODY=count" in (
        settings.resolved_waf_rule_action_overrides
    )


def test_a_free_form_path_parameter_would_expose_the_uri_path_rules():
    document = json.loads(json.dumps(DOCUMENT))
    (parameter,) = document["paths"]["/transaction/{transaction_id}"]["get"]["parameters"]
    parameter["schema"] = {"type": "string"}
    exposed = exposed_rules(document, 8192, tuple({r.group for r in MANAGED_RULES}))
    names = {r.name for r in exposed}
    assert {"GenericLFI_URIPATH", "CrossSiteScripting_URIPATH", "SizeRestrictions_URIPATH"} <= names
