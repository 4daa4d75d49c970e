"""The permissions boundary on every role, and the deploy and plan policies written from the synthesized
stacks (tools/iam_policies.py), evaluated with tests.infra.policy_eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.config import Settings
from tests.infra.conftest import BOUNDARY, DEPLOY_ROLE
from tests.infra.policy_eval import ALLOW, EXPLICIT_DENY, Request, ResourcePolicies, decide, from_aws_json
from tests.infra.synth import Stack
from tools.iam_policies import (
    DOCS,
    DOCUMENTED_BOUNDARY,
    MANAGED_POLICY_MAX_CHARS,
    PLACEHOLDER_ACCOUNT,
    RESOURCE_ACTIONS,
    SynthesizedStacks,
    managed_policies,
    policy,
)

ACCOUNT = "123456789012"
REGION = "us-east-2"
# The committed docs/iam/*.json: dev's stacks in the placeholder account, with a boundary named.
DOCUMENTED = Settings(permissions_boundary_arn=DOCUMENTED_BOUNDARY)


# ---------- the boundary ----------


def test_every_role_of_both_stacks_carries_the_boundary_when_it_is_set(configured_dir: Path):
    roles = [
        role
        for name in (STATE_BACKEND_STACK, TRANSACTION_STACK)
        for role in Stack.load(configured_dir, name).resources("aws_iam_role").values()
    ]
    assert len(roles) >= 7  # four functions, the schedule, the pipes, flow logs, API Gateway logging
    assert {r["name"]: r.get("permissions_boundary") for r in roles} == {r["name"]: BOUNDARY for r in roles}


def test_without_a_boundary_no_role_names_one(stack, backend_stack):
    for s in (stack, backend_stack):
        assert all("permissions_boundary" not in r for r in s.resources("aws_iam_role").values())


def test_the_boundary_setting_refuses_what_is_not_a_policy_arn():
    with pytest.raises(ValueError, match="PERMISSIONS_BOUNDARY_ARN"):
        Settings.from_env({"PERMISSIONS_BOUNDARY_ARN": "arn:aws:iam::123456789012:role/not-a-policy"})


# ---------- the deploy and plan policies ----------


@pytest.fixture(scope="module")
def synthesized(configured_dir: Path) -> SynthesizedStacks:
    return SynthesizedStacks.load(configured_dir)


@pytest.fixture(scope="module")
def deploy(synthesized: SynthesizedStacks) -> list[dict]:
    settings = Settings(permissions_boundary_arn=BOUNDARY)
    return from_aws_json(policy("deploy", synthesized, settings, ACCOUNT))


def _decide(statements: list[dict], action: str, resource: str, **keys: str) -> str:
    request = Request(DEPLOY_ROLE, action, resource, keys=tuple(keys.items()))
    return decide(request, identity=statements, resource_policies=ResourcePolicies(), region=REGION)[0]


def test_the_mapping_knows_every_resource_and_data_type_the_stacks_synthesize(synth_dir, configured_dir):
    for outdir in (synth_dir, configured_dir):
        assert SynthesizedStacks.load(outdir).unmapped() == []


def test_a_type_the_mapping_does_not_know_stops_the_policy(synthesized: SynthesizedStacks):
    unknown = SynthesizedStacks(
        synthesized.resource_types | {"aws_new_thing"},
        synthesized.data_types,
        synthesized.roles,
        synthesized.policies,
    )
    with pytest.raises(ValueError, match="aws_new_thing"):
        policy("deploy", unknown, Settings(), ACCOUNT)


def test_deploy_may_apply_every_synthesized_type_in_the_stacks_region_only(synthesized, deploy):
    for kind in sorted(synthesized.resource_types):
        for action in (*RESOURCE_ACTIONS[kind].read, *RESOURCE_ACTIONS[kind].write):
            if action.startswith(("iam:", "route53:")) or (action.startswith("s3:") and "Object" in action):
                continue
            concrete = action.replace("*", "Anything")
            assert _decide(deploy, concrete, "arn:aws:x", **{"aws:RequestedRegion": REGION}) == ALLOW, action
            assert _decide(deploy, concrete, "arn:aws:x", **{"aws:RequestedRegion": "eu-west-1"}) != ALLOW


def test_deploy_creates_the_stacks_roles_only_under_the_boundary(synthesized, deploy):
    role = f"arn:aws:iam::{ACCOUNT}:role/validation-lambda-dev-role"
    assert _decide(deploy, "iam:CreateRole", role, **{"iam:PermissionsBoundary": BOUNDARY}) == ALLOW
    assert _decide(deploy, "iam:PutRolePolicy", role, **{"iam:PermissionsBoundary": BOUNDARY}) == ALLOW
    assert _decide(deploy, "iam:CreateRole", role) != ALLOW  # no boundary
    other = f"arn:aws:iam::{ACCOUNT}:policy/another-boundary"
    assert _decide(deploy, "iam:CreateRole", role, **{"iam:PermissionsBoundary": other}) != ALLOW
    stranger = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert _decide(deploy, "iam:CreateRole", stranger, **{"iam:PermissionsBoundary": BOUNDARY}) != ALLOW
    for action in ("iam:AttachRolePolicy", "iam:DeleteRolePermissionsBoundary"):
        assert _decide(deploy, action, role) == EXPLICIT_DENY


def test_deploy_passes_each_role_only_to_the_service_that_trusts_it(synthesized, deploy):
    assert set(synthesized.roles.values()) >= {"lambda.amazonaws.com", "scheduler.amazonaws.com"}
    for name, service in synthesized.roles.items():
        role = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        assert _decide(deploy, "iam:PassRole", role, **{"iam:PassedToService": service}) == ALLOW
        assert _decide(deploy, "iam:PassRole", role, **{"iam:PassedToService": "ec2.amazonaws.com"}) != ALLOW
        assert _decide(deploy, "iam:PassRole", role) != ALLOW
    stranger = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert (
        _decide(deploy, "iam:PassRole", stranger, **{"iam:PassedToService": "lambda.amazonaws.com"}) != ALLOW
    )
    assert all("iam:*" not in s["actions"] and "*" not in s["actions"] for s in deploy)


def test_plan_reads_and_never_writes(synthesized):
    plan = from_aws_json(policy("plan", synthesized, Settings(), ACCOUNT))
    actions = {a for s in plan for a in s["actions"]}
    writes = {a for kind in synthesized.resource_types for a in RESOURCE_ACTIONS[kind].write}
    assert not actions & writes
    assert not {
        a for a in actions if a.split(":")[1].startswith(("Create", "Put", "Delete", "Update", "Pass"))
    }
    # no object but the state and the function packages
    reads = [s for s in plan if "s3:GetObject" in s["actions"]]
    assert sorted(r for s in reads for r in s["resources"]) == [
        "arn:aws:s3:::transaction-processing-artifacts-dev/*",
        "arn:aws:s3:::transaction-processing-tfstate-dev/transaction-processing/dev/terraform.tfstate",
    ]
    # the state: read through S3 (its key only through S3), no lock writes (plans run with -lock=false)
    decrypt = next(s for s in plan if s["sid"] == "DecryptTheStateThroughS3")
    assert decrypt["actions"] == ["kms:Decrypt"]
    assert decrypt["condition"] == [
        {"test": "StringEquals", "variable": "kms:ViaService", "values": ["s3.us-east-2.amazonaws.com"]}
    ]


@pytest.mark.parametrize("kind", ["deploy", "plan"])
def test_the_committed_documents_are_the_generators_and_each_fits_a_managed_policy(synth_dir, kind):
    document = policy(kind, SynthesizedStacks.load(synth_dir), DOCUMENTED, PLACEHOLDER_ACCOUNT)
    expected = managed_policies(document)
    committed = [json.loads(p.read_text()) for p in sorted(DOCS.glob(f"{kind}-policy-*.json"))]
    assert committed == expected, (
        f"regenerate: python -m tools.iam_policies {kind} --synth <dev synth> --write"
    )
    assert [s for part in committed for s in part["Statement"]] == document["Statement"]
    assert all(len(json.dumps(p, separators=(",", ":"))) <= MANAGED_POLICY_MAX_CHARS for p in committed)
    assert len(committed) <= 10  # a role's default quota of managed policies


def test_deploy_may_adopt_the_clients_keys_after_the_apply(deploy):
    # GIVEN make deploy's last step (tools.clients adopt), WHEN it runs as the deploy role,
    # THEN it may read the usage plans' keys and record them in this environment's key table only
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{Settings().api_key_table_name}"
    plan_keys = f"arn:aws:apigateway:{REGION}::/usageplans/plan-1/keys"
    for action, resource in (
        ("dynamodb:Scan", table),
        ("dynamodb:PutItem", table),
        ("apigateway:GET", plan_keys),
    ):
        assert _decide(deploy, action, resource, **{"aws:RequestedRegion": REGION}) == ALLOW, action
    other = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/api-keys-prod"
    assert _decide(deploy, "dynamodb:PutItem", other, **{"aws:RequestedRegion": REGION}) != ALLOW
