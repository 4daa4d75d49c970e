"""The key, topic, access-log bucket and WAF findings of the security review, on the synthesized JSON:
grants only for AWS resources, the state key trusting only what it serves, subscriptions only to the
configured endpoints, the access-log bucket written only by log delivery and never emptied, no
unredacted WAF samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tests.infra.conftest import DEPLOY_ROLE, ONCALL_EMAIL, OPERATOR_ROLE
from tests.infra.policy_eval import ALLOW, EXPLICIT_DENY, Request, Resolver, ResourcePolicies, decide
from tests.infra.synth import Stack

REGION = "us-east-2"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def configured(configured_dir: Path) -> tuple[Stack, Stack, ResourcePolicies]:
    stack = Stack.load(configured_dir, TRANSACTION_STACK)
    backend = Stack.load(configured_dir, STATE_BACKEND_STACK)
    return stack, backend, ResourcePolicies.of(stack, backend)


def _key_policy(stack: Stack) -> list[dict]:
    (key,) = stack.resources("aws_kms_key").values()
    return stack.policy_document(key["policy"])["statement"]


def _decide(policies: ResourcePolicies, role: str, action: str, resource: str, via=None, **keys: str) -> str:
    request = Request(role, action, resource, via, keys=tuple(keys.items()))
    return decide(request, identity=None, resource_policies=policies, region=REGION)[0]


# ---------- KMS ----------


def test_no_key_statement_grants_create_grant_without_grant_is_for_aws_resource(stack, backend_stack):
    for s in (stack, backend_stack):
        for statement in _key_policy(s):
            assert "kms:Create*" not in statement["actions"], statement["sid"]
            if "kms:CreateGrant" in statement["actions"]:
                assert statement["actions"] == ["kms:CreateGrant"], statement["sid"]
                assert {
                    "test": "Bool",
                    "variable": "kms:GrantIsForAWSResource",
                    "values": ["true"],
                } in statement["condition"]


def test_the_deploy_role_grants_the_key_only_to_aws_services(configured):
    stack, backend, policies = configured
    for s in (stack, backend):
        (logical,) = s.resources("aws_kms_key")
        key = Resolver(s).value(f"${{aws_kms_key.{logical}.arn}}")
        assert (
            _decide(policies, DEPLOY_ROLE, "kms:CreateGrant", key, **{"kms:GrantIsForAWSResource": "true"})
            == ALLOW
        )
        assert _decide(policies, DEPLOY_ROLE, "kms:CreateGrant", key) != ALLOW
        assert _decide(policies, DEPLOY_ROLE, "kms:CreateAlias", key) == ALLOW


def test_the_state_key_trusts_only_the_services_it_serves(backend_stack):
    statements = _key_policy(backend_stack)
    services = {
        i
        for s in statements
        for p in s.get("principals", [])
        if p["type"] == "Service"
        for i in p["identifiers"]
    }
    assert services == {"logging.s3.amazonaws.com"}  # access logs of the state and artifact buckets
    via = {
        v
        for s in statements
        for c in s.get("condition", [])
        if c["variable"] == "kms:ViaService"
        for v in c["values"]
    }
    assert via == {f"s3.{REGION}.amazonaws.com", f"dynamodb.{REGION}.amazonaws.com"}


# ---------- SNS ----------


def test_only_the_configured_endpoints_can_be_subscribed_by_anyone(configured):
    _, _, policies = configured
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:transaction-alerts-dev"
    for role in (DEPLOY_ROLE, OPERATOR_ROLE, f"arn:aws:iam::{ACCOUNT}:role/anyone"):
        outside = _decide(
            policies, role, "sns:Subscribe", topic, **{"sns:Endpoint": "https://attacker.example"}
        )
        assert outside == EXPLICIT_DENY
    assert _decide(policies, DEPLOY_ROLE, "sns:Subscribe", topic, **{"sns:Endpoint": ONCALL_EMAIL}) == ALLOW


def test_with_no_endpoint_configured_nobody_subscribes(stack):
    policies = ResourcePolicies.of(stack)
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:transaction-alerts-dev"
    decision = _decide(policies, DEPLOY_ROLE, "sns:Subscribe", topic, **{"sns:Endpoint": ONCALL_EMAIL})
    assert decision == EXPLICIT_DENY


# ---------- the access-log bucket ----------


def test_the_access_log_bucket_takes_writes_from_log_delivery_only_and_deletes_from_nobody(configured):
    _, backend, policies = configured
    bucket = backend.by_path("aws_s3_bucket", "AccessLogBucket")["bucket"]
    log_object = f"arn:aws:s3:::{bucket}/transaction-processing-tfstate-dev/2026-12-06-00-00-00-ABC"
    for role in (DEPLOY_ROLE, OPERATOR_ROLE):
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert _decide(policies, role, action, log_object) == EXPLICIT_DENY, (role, action)
    # the logging service carries no aws:PrincipalArn: the write deny does not reach it, its allow does
    policy = backend.by_path("aws_s3_bucket_policy", "AccessLogBucketPolicy")
    statements = {s["sid"]: s for s in backend.policy_document(policy["policy"])["statement"]}
    assert statements["OnlyLogDeliveryWrites"]["condition"] == [
        {"test": "Null", "variable": "aws:PrincipalArn", "values": ["false"]}
    ]
    assert statements["S3ServerAccessLogDelivery"]["principals"] == [
        {"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}
    ]
    assert "condition" not in statements["NobodyDeletesLogs"]


def test_the_state_bucket_keeps_its_own_policy(configured):
    _, backend, policies = configured
    bucket = backend.by_path("aws_s3_bucket", "StateBucket")["bucket"]
    state = f"arn:aws:s3:::{bucket}/transaction-processing/dev/terraform.tfstate"
    assert _decide(policies, DEPLOY_ROLE, "s3:DeleteObject", state) == ALLOW


# ---------- WAF ----------


def test_waf_keeps_no_unredacted_samples_and_logs_without_the_key(stack):
    (acl,) = stack.resources("aws_wafv2_web_acl").values()
    configs = [acl["visibility_config"], *(rule["visibility_config"] for rule in acl["rule"])]
    assert configs and all(c["sampled_requests_enabled"] is False for c in configs)
    assert all(c["cloudwatch_metrics_enabled"] is True for c in configs)
    (logging,) = stack.resources("aws_wafv2_web_acl_logging_configuration").values()
    assert {"single_header": {"name": "x-api-key"}} in logging["redacted_fields"]
