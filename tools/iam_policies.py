"""The deploy and plan roles' IAM policies, written from the synthesized stacks.

``RESOURCE_ACTIONS`` is the one mapping from each Terraform resource type the stacks synthesize to the IAM
actions Terraform needs to read it (refresh, plan) and to create, update and delete it (apply). The deploy
policy grants both for the types the stacks use; the plan policy grants only the reads and the state's
read. The stacks' own roles are handled apart: the deploy role creates and changes only roles with the
stacks' names, only while they carry ``PERMISSIONS_BOUNDARY_ARN`` (``iam:PermissionsBoundary``), passes
each only to the service its trust policy names (``iam:PassedToService``), may never remove a boundary,
and is given no ``iam:AttachRolePolicy`` (the stacks attach no managed policy).

Usage: ``python -m tools.iam_policies deploy|plan [--synth cdktf.out] [--account ID]`` prints the policy
for the environment (``DEPLOY_ENV``) synthesized in ``--synth``, as the managed policies it fits in (IAM
takes 6,144 characters per managed policy; attach them all); ``--write`` writes dev's to
``docs/iam/<kind>-policy-<n>.json`` (placeholder account 111122223333 and boundary), kept in step by a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from card_transactions.settings.environments import load_environment
from card_transactions.settings.system import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.config import Settings

PLACEHOLDER_ACCOUNT = "111122223333"
DOCUMENTED_BOUNDARY = f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:policy/transaction-processing-boundary"
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "iam"


@dataclass(frozen=True)
class Actions:
    """What Terraform calls for one resource type: ``read`` on refresh (plan), ``write`` on apply."""

    read: tuple[str, ...]
    write: tuple[str, ...]


def _a(read: str, write: str) -> Actions:
    return Actions(tuple(read.split()), tuple(write.split()))


_APIGW = _a("apigateway:GET", "apigateway:POST apigateway:PUT apigateway:PATCH apigateway:DELETE")
_EC2_TAGS = "ec2:CreateTags ec2:DeleteTags"
_LOGS_READ = "logs:DescribeLogGroups logs:ListTagsForResource logs:ListTagsLogGroup"
# The one mapping: resource type -> the IAM actions its read and its create/update/delete need.
RESOURCE_ACTIONS: Mapping[str, Actions] = {
    **{
        t: _APIGW
        for t in (
            "aws_api_gateway_account",
            "aws_api_gateway_api_key",
            "aws_api_gateway_base_path_mapping",
            "aws_api_gateway_deployment",
            "aws_api_gateway_domain_name",
            "aws_api_gateway_gateway_response",
            "aws_api_gateway_integration",
            "aws_api_gateway_method",
            "aws_api_gateway_method_settings",
            "aws_api_gateway_model",
            "aws_api_gateway_request_validator",
            "aws_api_gateway_resource",
            "aws_api_gateway_rest_api",
            "aws_api_gateway_stage",
            "aws_api_gateway_usage_plan",
            "aws_api_gateway_usage_plan_key",
        )
    },
    "aws_cloudwatch_dashboard": _a(
        "cloudwatch:GetDashboard", "cloudwatch:PutDashboard cloudwatch:DeleteDashboards"
    ),
    "aws_cloudwatch_event_bus": _a(
        "events:DescribeEventBus events:ListTagsForResource",
        "events:CreateEventBus events:UpdateEventBus events:DeleteEventBus events:TagResource "
        "events:UntagResource",
    ),
    "aws_cloudwatch_event_rule": _a(
        "events:DescribeRule events:ListTagsForResource",
        "events:PutRule events:DeleteRule events:EnableRule events:DisableRule events:TagResource "
        "events:UntagResource",
    ),
    "aws_cloudwatch_event_target": _a("events:ListTargetsByRule", "events:PutTargets events:RemoveTargets"),
    "aws_cloudwatch_metric_alarm": _a(
        "cloudwatch:DescribeAlarms cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm cloudwatch:DeleteAlarms cloudwatch:TagResource cloudwatch:UntagResource",
    ),
    "aws_cloudwatch_log_group": _a(
        _LOGS_READ,
        "logs:CreateLogGroup logs:DeleteLogGroup logs:PutRetentionPolicy logs:DeleteRetentionPolicy "
        "logs:AssociateKmsKey logs:DisassociateKmsKey logs:TagResource logs:UntagResource logs:TagLogGroup",
    ),
    "aws_cloudwatch_log_data_protection_policy": _a(
        "logs:GetDataProtectionPolicy",
        "logs:PutDataProtectionPolicy logs:DeleteDataProtectionPolicy",
    ),
    "aws_cloudwatch_log_resource_policy": _a(
        "logs:DescribeResourcePolicies", "logs:PutResourcePolicy logs:DeleteResourcePolicy"
    ),
    "aws_dynamodb_table": _a(
        "dynamodb:DescribeTable dynamodb:DescribeContinuousBackups dynamodb:DescribeTimeToLive "
        "dynamodb:ListTagsOfResource",
        "dynamodb:CreateTable dynamodb:UpdateTable dynamodb:DeleteTable dynamodb:UpdateContinuousBackups "
        "dynamodb:UpdateTimeToLive dynamodb:TagResource dynamodb:UntagResource",
    ),
    "aws_iam_policy": _a(
        "iam:GetPolicy iam:GetPolicyVersion iam:ListPolicyVersions iam:ListPolicyTags",
        "iam:CreatePolicy iam:CreatePolicyVersion iam:DeletePolicyVersion iam:DeletePolicy iam:TagPolicy "
        "iam:UntagPolicy",
    ),
    # Roles and their inline policies: only the stacks' roles, under the boundary (role_statements).
    "aws_iam_role": _a("", ""),
    "aws_iam_role_policy": _a("", ""),
    "aws_kms_alias": _a("kms:ListAliases", "kms:CreateAlias kms:UpdateAlias kms:DeleteAlias"),
    "aws_kms_key": _a(
        "kms:DescribeKey kms:GetKeyPolicy kms:GetKeyRotationStatus kms:ListResourceTags",
        "kms:CreateKey kms:PutKeyPolicy kms:EnableKeyRotation kms:DisableKeyRotation kms:EnableKey "
        "kms:DisableKey kms:ScheduleKeyDeletion kms:TagResource kms:UntagResource kms:UpdateKeyDescription",
    ),
    "aws_lambda_code_signing_config": _a(
        "lambda:GetCodeSigningConfig",
        "lambda:CreateCodeSigningConfig lambda:UpdateCodeSigningConfig lambda:DeleteCodeSigningConfig",
    ),
    "aws_lambda_event_source_mapping": _a(
        "lambda:GetEventSourceMapping lambda:ListEventSourceMappings",
        "lambda:CreateEventSourceMapping lambda:UpdateEventSourceMapping lambda:DeleteEventSourceMapping",
    ),
    "aws_lambda_function": _a(
        "lambda:GetFunction lambda:GetFunctionCodeSigningConfig lambda:GetFunctionConcurrency "
        "lambda:ListVersionsByFunction lambda:ListTags",
        "lambda:CreateFunction lambda:UpdateFunctionCode lambda:UpdateFunctionConfiguration "
        "lambda:DeleteFunction lambda:PutFunctionConcurrency lambda:DeleteFunctionConcurrency "
        "lambda:PutFunctionCodeSigningConfig lambda:PublishVersion lambda:TagResource lambda:UntagResource "
        "ec2:DescribeSecurityGroups ec2:DescribeSubnets ec2:DescribeVpcs",
    ),
    "aws_lambda_alias": _a("lambda:GetAlias", "lambda:CreateAlias lambda:UpdateAlias lambda:DeleteAlias"),
    "aws_lambda_provisioned_concurrency_config": _a(
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:PutProvisionedConcurrencyConfig lambda:DeleteProvisionedConcurrencyConfig",
    ),
    "aws_lambda_permission": _a("lambda:GetPolicy", "lambda:AddPermission lambda:RemovePermission"),
    "aws_pipes_pipe": _a(
        "pipes:DescribePipe pipes:ListTagsForResource",
        "pipes:CreatePipe pipes:UpdatePipe pipes:DeletePipe pipes:StartPipe pipes:StopPipe "
        "pipes:TagResource pipes:UntagResource",
    ),
    "aws_route53_record": _a(
        "route53:GetHostedZone route53:ListResourceRecordSets route53:GetChange",
        "route53:ChangeResourceRecordSets",
    ),
    **{
        t: _a(
            "s3:GetBucket* s3:GetLifecycleConfiguration s3:GetEncryptionConfiguration "
            "s3:GetAccelerateConfiguration s3:GetReplicationConfiguration s3:ListBucket",
            "s3:CreateBucket s3:DeleteBucket s3:PutBucket* s3:DeleteBucketPolicy "
            "s3:PutLifecycleConfiguration s3:PutEncryptionConfiguration",
        )
        for t in (
            "aws_s3_bucket",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_logging",
            "aws_s3_bucket_notification",
            "aws_s3_bucket_ownership_controls",
            "aws_s3_bucket_policy",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_versioning",
        )
    },
    "aws_s3_object": _a("s3:GetObject s3:GetObjectTagging", "s3:PutObject s3:DeleteObject"),
    "aws_scheduler_schedule": _a(
        "scheduler:GetSchedule", "scheduler:CreateSchedule scheduler:UpdateSchedule scheduler:DeleteSchedule"
    ),
    "aws_signer_signing_job": _a("signer:DescribeSigningJob", "signer:StartSigningJob"),
    "aws_signer_signing_profile": _a(
        "signer:GetSigningProfile signer:ListTagsForResource",
        "signer:PutSigningProfile signer:CancelSigningProfile signer:TagResource signer:UntagResource",
    ),
    "aws_sns_topic": _a(
        "sns:GetTopicAttributes sns:ListTagsForResource",
        "sns:CreateTopic sns:DeleteTopic sns:SetTopicAttributes sns:TagResource sns:UntagResource",
    ),
    "aws_sns_topic_policy": _a("sns:GetTopicAttributes", "sns:SetTopicAttributes"),
    "aws_sns_topic_subscription": _a(
        "sns:GetSubscriptionAttributes", "sns:Subscribe sns:Unsubscribe sns:SetSubscriptionAttributes"
    ),
    "aws_sqs_queue": _a(
        "sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ListQueueTags",
        "sqs:CreateQueue sqs:DeleteQueue sqs:SetQueueAttributes sqs:TagQueue sqs:UntagQueue",
    ),
    "aws_sqs_queue_policy": _a("sqs:GetQueueAttributes", "sqs:SetQueueAttributes"),
    "aws_sqs_queue_redrive_allow_policy": _a("sqs:GetQueueAttributes", "sqs:SetQueueAttributes"),
    **{
        t: _a(
            "ec2:Describe*",
            f"ec2:CreateVpc ec2:DeleteVpc ec2:ModifyVpcAttribute ec2:CreateSubnet ec2:DeleteSubnet "
            f"ec2:ModifySubnetAttribute ec2:CreateRouteTable ec2:DeleteRouteTable ec2:AssociateRouteTable "
            f"ec2:DisassociateRouteTable ec2:CreateSecurityGroup ec2:DeleteSecurityGroup "
            f"ec2:AuthorizeSecurityGroupIngress ec2:AuthorizeSecurityGroupEgress "
            f"ec2:RevokeSecurityGroupIngress ec2:RevokeSecurityGroupEgress "
            f"ec2:ModifySecurityGroupRules ec2:UpdateSecurityGroupRuleDescriptionsIngress "
            f"ec2:UpdateSecurityGroupRuleDescriptionsEgress ec2:CreateVpcEndpoint ec2:ModifyVpcEndpoint "
            f"ec2:DeleteVpcEndpoints ec2:CreateFlowLogs ec2:DeleteFlowLogs {_EC2_TAGS}",
        )
        for t in (
            "aws_vpc",
            "aws_subnet",
            "aws_route_table",
            "aws_route_table_association",
            "aws_default_security_group",
            "aws_security_group",
            "aws_vpc_security_group_egress_rule",
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_endpoint",
            "aws_vpc_endpoint_policy",
            "aws_flow_log",
        )
    },
    **{
        t: _a(
            "wafv2:GetWebACL wafv2:GetWebACLForResource wafv2:GetLoggingConfiguration "
            "wafv2:ListTagsForResource",
            "wafv2:CreateWebACL wafv2:UpdateWebACL wafv2:DeleteWebACL wafv2:AssociateWebACL "
            "wafv2:DisassociateWebACL wafv2:PutLoggingConfiguration wafv2:DeleteLoggingConfiguration "
            "wafv2:TagResource wafv2:UntagResource apigateway:SetWebACL",
        )
        for t in (
            "aws_wafv2_web_acl",
            "aws_wafv2_web_acl_association",
            "aws_wafv2_web_acl_logging_configuration",
        )
    },
    "aws_xray_encryption_config": _a("xray:GetEncryptionConfig", "xray:PutEncryptionConfig"),
    "aws_xray_sampling_rule": _a(
        "xray:GetSamplingRules xray:ListTagsForResource",
        "xray:CreateSamplingRule xray:UpdateSamplingRule xray:DeleteSamplingRule xray:TagResource "
        "xray:UntagResource",
    ),
}
# Reads every plan makes whatever the resources: the data sources (zones) and who it is.
DATA_SOURCE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "aws_availability_zones": ("ec2:DescribeAvailabilityZones",),
    "aws_caller_identity": (),
    "aws_partition": (),
    "aws_iam_policy_document": (),
    "aws_cloudwatch_log_data_protection_policy_document": (),
}
# Services whose requests are made in us-east-1 whatever the stack's region (no aws:RequestedRegion scope).
GLOBAL_SERVICES = ("iam", "route53")
ROLE_READ = ("iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies")
ROLE_WRITE = (
    "iam:DeleteRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:DeleteRolePolicy",
    "iam:ListInstanceProfilesForRole",
)


@dataclass(frozen=True)
class SynthesizedStacks:
    """What the policies are written from: each stack's resource and data source types, and its roles
    (name -> the service its trust policy names)."""

    resource_types: frozenset[str]
    data_types: frozenset[str]
    roles: Mapping[str, str]
    policies: frozenset[str]  # the customer-managed policies' names

    @classmethod
    def load(
        cls, outdir: Path, stacks: Sequence[str] = (STATE_BACKEND_STACK, TRANSACTION_STACK)
    ) -> SynthesizedStacks:
        resource_types: set[str] = set()
        data_types: set[str] = set()
        roles: dict[str, str] = {}
        policies: set[str] = set()
        for name in stacks:
            doc = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
            resource_types |= set(doc.get("resource", {}))
            data_types |= set(doc.get("data", {}))
            documents = doc.get("data", {}).get("aws_iam_policy_document", {})
            for role in doc.get("resource", {}).get("aws_iam_role", {}).values():
                match = re.fullmatch(
                    r"\$\{data\.aws_iam_policy_document\.(\w+)\.json\}", role["assume_role_policy"]
                )
                assert match, role["assume_role_policy"]
                (statement,) = documents[match.group(1)]["statement"]
                (principal,) = statement["principals"]
                (service,) = principal["identifiers"]
                roles[role["name"]] = service
            policies |= {p["name"] for p in doc.get("resource", {}).get("aws_iam_policy", {}).values()}
        return cls(frozenset(resource_types), frozenset(data_types), roles, frozenset(policies))

    def unmapped(self) -> list[str]:
        """Types the mapping does not know: the policies would miss their actions."""
        return sorted(
            (self.resource_types - set(RESOURCE_ACTIONS)) | (self.data_types - set(DATA_SOURCE_ACTIONS))
        )


def _statement(
    sid: str, actions: Iterable[str], resources: Sequence[str], **condition: Any
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": list(resources) if len(resources) > 1 else resources[0],
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _state_statements(settings: Settings, account: str, *, write: bool) -> list[dict[str, Any]]:
    bucket = f"arn:aws:s3:::{settings.resolved_state_bucket}"
    key = f"{bucket}/{settings.resolved_state_key}"
    state_key = settings.state_kms_key_arn or f"arn:aws:kms:{settings.region}:{account}:key/*"
    statements = [
        _statement("ListTheStateBucket", ["s3:ListBucket"], [bucket]),
        _statement("ReadTheState", ["s3:GetObject"], [key]),
        # The state is written under its key: reading it needs kms:Decrypt, through S3 only.
        _statement(
            "DecryptTheStateThroughS3",
            ["kms:Decrypt"] + (["kms:Encrypt", "kms:GenerateDataKey"] if write else []),
            [state_key],
            StringEquals={"kms:ViaService": f"s3.{settings.region}.amazonaws.com"},
        ),
    ]
    if write:
        table = f"arn:aws:dynamodb:{settings.region}:{account}:table/{settings.resolved_state_lock_table}"
        statements += [
            _statement("WriteTheState", ["s3:PutObject"], [key]),
            _statement(
                "LockTheState", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [f"{key}.tflock"]
            ),
            _statement(
                "LockTheStateForOlderClients",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"],
                [table],
            ),
        ]
    return statements


def _role_statements(stacks: SynthesizedStacks, settings: Settings, account: str) -> list[dict[str, Any]]:
    role_arns = [f"arn:aws:iam::{account}:role/{name}" for name in sorted(stacks.roles)]
    boundary = (
        {"StringEquals": {"iam:PermissionsBoundary": settings.permissions_boundary_arn}}
        if settings.permissions_boundary_arn
        else {}
    )
    statements = [
        _statement("ReadTheStacksRoles", ROLE_READ, role_arns),
        _statement("ChangeTheStacksRoles", ROLE_WRITE, role_arns),
        _statement(
            "CreateTheStacksRolesOnlyUnderTheBoundary",
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
            role_arns,
            **boundary,
        ),
    ]
    for service in sorted(set(stacks.roles.values())):
        passed = [f"arn:aws:iam::{account}:role/{n}" for n, s in sorted(stacks.roles.items()) if s == service]
        sid = "Pass" + "".join(part.title() for part in re.split(r"[^a-z]", service.split(".")[0]) if part)
        statements.append(
            _statement(
                f"{sid}RolesToTheirService",
                ["iam:PassRole"],
                passed,
                StringEquals={"iam:PassedToService": service},
            )
        )
    return statements


# The services that use the stacks' keys on the deploy role's behalf while it creates resources (tables,
# functions' environment, schedules, pipes, the alert bus, packages in S3); the key policies admit these.
KEY_USERS = ("dynamodb", "lambda", "scheduler", "pipes", "events", "s3", "sqs", "sns")


def _use_the_keys(settings: Settings, account: str) -> dict[str, Any]:
    return _statement(
        "UseTheStacksKeysThroughServices",
        ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
        [f"arn:aws:kms:{settings.region}:{account}:key/*"],
        StringEquals={"kms:ViaService": [f"{svc}.{settings.region}.amazonaws.com" for svc in KEY_USERS]},
    )


def _adopt_client_keys(settings: Settings, account: str) -> dict[str, Any]:
    """``make deploy`` ends with ``tools.clients adopt``: it reads the key table and records the keys already
    in the clients' usage plans (reading the plans is in the refresh statements)."""
    return _statement(
        "AdoptTheClientsKeys",
        ["dynamodb:Scan", "dynamodb:PutItem"],
        [f"arn:aws:dynamodb:{settings.region}:{account}:table/{settings.api_key_table_name}"],
    )


def _deny_statements() -> list[dict[str, Any]]:
    return [
        {
            "Sid": "NeverLiftABoundaryNorAttachPolicies",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            "Resource": "*",
        }
    ]


def policy(kind: str, stacks: SynthesizedStacks, settings: Settings, account: str) -> dict[str, Any]:
    """The ``deploy`` or ``plan`` policy document for ``stacks``, in ``account``."""
    if kind not in ("deploy", "plan"):
        raise ValueError(f"kind must be deploy or plan, got {kind!r}")
    unmapped = stacks.unmapped()
    if unmapped:
        raise ValueError(
            f"no IAM actions known for {unmapped}: add them to tools.iam_policies.RESOURCE_ACTIONS"
        )
    write = kind == "deploy"
    reads = {a for t in stacks.resource_types for a in RESOURCE_ACTIONS[t].read}
    reads |= {a for t in stacks.data_types for a in DATA_SOURCE_ACTIONS[t]}
    writes = {a for t in stacks.resource_types for a in RESOURCE_ACTIONS[t].write} if write else set()
    statements = [*_state_statements(settings, account, write=write)]
    statements += _scoped("Refresh", reads, stacks, settings, account)
    if write:
        statements += _scoped("Apply", writes, stacks, settings, account)
        statements.append(_use_the_keys(settings, account))
        statements.append(_adopt_client_keys(settings, account))
        statements += _role_statements(stacks, settings, account)
        statements += _deny_statements()
    else:
        role_arns = [f"arn:aws:iam::{account}:role/{name}" for name in sorted(stacks.roles)]
        statements.append(_statement("ReadTheStacksRoles", ROLE_READ, role_arns))
    return {"Version": "2012-10-17", "Statement": statements}


def _scoped(
    verb: str, actions: set[str], stacks: SynthesizedStacks, settings: Settings, account: str
) -> list[dict[str, Any]]:
    """Regional actions limited to the stack's region; IAM policy actions to the stacks' policies;
    Route 53 (global) on its own."""
    objects = {a for a in actions if a.startswith("s3:") and "Object" in a}
    regional = {a for a in actions if a.split(":")[0] not in GLOBAL_SERVICES} - objects
    policies = [a for a in actions if a.startswith("iam:")]
    dns = [a for a in actions if a.startswith("route53:")]
    found = []
    if regional:
        region = {"StringEquals": {"aws:RequestedRegion": settings.region}}
        found.append(_statement(f"{verb}TheStacksResources", regional, ["*"], **region))
    if objects:  # the function packages only: no other bucket's objects (logs, state) are read
        packages = [f"arn:aws:s3:::{settings.artifact_bucket}/*"]
        found.append(_statement(f"{verb}TheFunctionPackages", objects, packages))
    if policies:
        arns = [f"arn:aws:iam::{account}:policy/{name}" for name in sorted(stacks.policies)]
        found.append(_statement(f"{verb}TheStacksPolicies", policies, arns))
    if dns:
        found.append(_statement(f"{verb}TheApisDnsRecord", dns, ["*"]))
    return found


# IAM's quota for a customer-managed policy document (characters, whitespace not counted).
MANAGED_POLICY_MAX_CHARS = 6144


def _size(document: Mapping[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def managed_policies(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``document``'s statements packed, in order, into as few documents as fit IAM's size quota for a
    managed policy (attach them all to the role; a role takes 10 managed policies by default)."""
    parts: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        if parts and _size({**parts[-1], "Statement": [*parts[-1]["Statement"], statement]}) <= (
            MANAGED_POLICY_MAX_CHARS
        ):
            parts[-1]["Statement"].append(statement)
            continue
        part = {"Version": document["Version"], "Statement": [statement]}
        if _size(part) > MANAGED_POLICY_MAX_CHARS:
            raise ValueError(
                f"statement {statement['Sid']} alone exceeds {MANAGED_POLICY_MAX_CHARS} characters"
            )
        parts.append(part)
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.iam_policies", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("kind", choices=("deploy", "plan"))
    parser.add_argument("--synth", type=Path, default=ROOT / "cdktf.out", help="the synthesized app")
    parser.add_argument("--account", default=PLACEHOLDER_ACCOUNT, help="the AWS account id")
    parser.add_argument(
        "--write", action="store_true", help=f"write dev's example to docs/iam/ ({DOCUMENTED_BOUNDARY})"
    )
    args = parser.parse_args(argv)
    if args.write:
        settings = Settings(permissions_boundary_arn=DOCUMENTED_BOUNDARY)
    else:
        settings = load_environment(Settings, os.environ).settings
    document = policy(args.kind, SynthesizedStacks.load(args.synth), settings, args.account)
    parts = managed_policies(document)
    if args.write:
        DOCS.mkdir(exist_ok=True)
        for stale in DOCS.glob(f"{args.kind}-policy-*.json"):
            stale.unlink()
        for number, part in enumerate(parts, start=1):
            (DOCS / f"{args.kind}-policy-{number}.json").write_text(json.dumps(part, indent=2) + "\n")
    else:
        sys.stdout.write("".join(json.dumps(part, indent=2) + "\n" for part in parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
