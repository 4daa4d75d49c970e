"""What moto cannot emulate: the one list (mirrored in docs/terraform-check.md).

``terraform apply`` against moto creates every resource of both stacks except ``LEFT_OUT``, and the
re-plan after it must report no changes except on ``READ_BACK_GAPS``. Found with moto 5.2.5 and
hashicorp/aws 5.100.0; each entry names the moto limitation that forces it. (No role of the stacks
carries an AWS-managed IAM policy; the moto server still loads them, ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``,
so an attachment would be created.)

Mechanism. A left-out resource is removed from the scratch copy of ``cdk.tf.json`` before the apply
(``-target`` would pull it back in through every resource that refers to it, and would leave it in
every later plan). What referred to it gets the stand-in its entry names (a Lambda function without a
code-signing config, deployed from the package the signing job would have signed), ``depends_on``
entries on it are dropped, and any other reference left behind stops the check with an error, so a new
reference can never be silently cut. A read-back gap becomes ``lifecycle.ignore_changes`` on exactly
that attribute, set by the moto override file only: the value is still sent on create, and every other
attribute of the resource still has to read back unchanged.

One gap is closed in front of moto instead of listed here: moto runs a retried create again and fails it
(``ResourceInUseException``, ``FlowLogAlreadyExists``), so a retry of a call moto already answered gets
that answer again (``answered_retries``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any]
Doc = dict[str, Any]
# (body of the removed resource, the referring value) -> the value to use instead; None drops the attribute.
StandIn = Callable[[Body, str], Any]


def _drop(_removed: Body, _value: str) -> None:
    return None


def _signing_source(field_name: str) -> StandIn:
    """The unsigned package a signing job reads, in place of the signed copy it would write."""
    return lambda removed, _value: removed["source"]["s3"][field_name]


def _always(_doc: Doc, _body: Body) -> bool:
    return True


def _bucket_receives_objects(doc: Doc, body: Body) -> bool:
    objects = doc.get("resource", {}).get("aws_s3_object", {}).values()
    return body.get("bucket") in {o.get("bucket") for o in objects}


def _rule_without_cidr(_doc: Doc, body: Body) -> bool:
    return "referenced_security_group_id" in body or "prefix_list_id" in body


@dataclass(frozen=True)
class LeftOut:
    """Resources of ``resource_type`` (those ``selects``) that moto cannot create."""

    resource_type: str
    reason: str
    stand_ins: Mapping[str, StandIn] = field(default_factory=dict)
    selects: Callable[[Doc, Body], bool] = _always
    scope: str = "every one"


@dataclass(frozen=True)
class ReadBackGap:
    """Attributes moto accepts on create but does not read back as sent."""

    resource_type: str
    attributes: tuple[str, ...]
    reason: str
    selects: Callable[[Doc, Body], bool] = _always
    scope: str = "every one"


LEFT_OUT: tuple[LeftOut, ...] = (
    LeftOut(
        "aws_lambda_code_signing_config",
        "moto has no Lambda CreateCodeSigningConfig (HTTP 404)",
        stand_ins={"code_signing_config_arn": _drop},
    ),
    LeftOut(
        "aws_signer_signing_job",
        "moto's Signer has signing profiles but no StartSigningJob",
        stand_ins={"s3_bucket": _signing_source("bucket"), "s3_key": _signing_source("key")},
    ),
    LeftOut(
        "aws_sqs_queue_redrive_allow_policy",
        "moto never returns the RedriveAllowPolicy queue attribute, and the provider waits for it to read"
        " back until its 20-minute create timeout (moto's SetQueueAttributes would also drop the DLQ's"
        " TLS-only Policy, which the call does not repeat)",
    ),
    LeftOut(
        "aws_s3_bucket_logging",
        "moto's PutBucketLogging fails with HTTP 500 (retried by the provider for minutes) when the target"
        ' bucket policy has a statement with Principal "*" (our TLS-only deny), and it recognises a'
        " log-delivery grant only with a single-string Resource (ours lists one prefix per source bucket)",
    ),
    LeftOut(
        "aws_cloudwatch_log_data_protection_policy",
        "moto's CloudWatch Logs has no PutDataProtectionPolicy (the provider retries the unknown"
        " operation until its timeout)",
    ),
    LeftOut(
        "aws_xray_encryption_config",
        "moto's X-Ray has no PutEncryptionConfig",
    ),
    LeftOut(
        "aws_xray_sampling_rule",
        "moto's X-Ray has no CreateSamplingRule (it emulates trace segments and summaries only)",
    ),
    LeftOut(
        "aws_s3_bucket_policy",
        "moto ignores the Bool condition operator, so the TLS-only deny (aws:SecureTransport false) refuses"
        " every object request, over TLS too: the function packages (aws_s3_object) could not be uploaded."
        " The same SecureBucket policy is created on the state-backend buckets, which receive no objects",
        selects=_bucket_receives_objects,
        scope="on buckets the stack uploads objects to",
    ),
)

READ_BACK_GAPS: tuple[ReadBackGap, ...] = (
    ReadBackGap(
        "aws_kms_key",
        ("rotation_period_in_days",),
        "moto's GetKeyRotationStatus has no RotationPeriodInDays (reads back 0)",
    ),
    ReadBackGap(
        "aws_lambda_function",
        ("dead_letter_config", "logging_config"),
        "moto's GetFunction returns neither DeadLetterConfig nor LoggingConfig",
    ),
    ReadBackGap(
        "aws_s3_bucket_notification",
        ("eventbridge",),
        "moto's GetBucketNotificationConfiguration omits EventBridgeConfiguration (reads back false)",
    ),
    ReadBackGap(
        "aws_vpc_security_group_egress_rule",
        ("description",),
        "moto's DescribeSecurityGroupRules returns a rule's Description only for CIDR rules",
        selects=_rule_without_cidr,
        scope="on rules to a security group or prefix list",
    ),
    ReadBackGap(
        "aws_sqs_queue",
        ("redrive_policy",),
        "moto returns the RedrivePolicy JSON with spaces after its separators, AWS compact JSON; the provider"
        " stores the returned string, so the re-plan shows a whitespace-only change",
    ),
)


@dataclass(frozen=True)
class Removed:
    """One resource taken out of a stack, and why."""

    address: str
    reason: str


class LeaveOutError(ValueError):
    """A left-out resource is still referred to from somewhere no stand-in covers."""


def leave_out(doc: Doc, entries: tuple[LeftOut, ...] = LEFT_OUT) -> tuple[Doc, list[Removed]]:
    """A copy of ``doc`` without the resources moto cannot create, references replaced by stand-ins."""
    reduced = copy.deepcopy(doc)
    resources = reduced.get("resource", {})
    taken: dict[str, tuple[LeftOut, Body]] = {}
    for entry in entries:
        bodies = resources.get(entry.resource_type, {})
        for name in [n for n, body in bodies.items() if entry.selects(doc, body)]:
            taken[f"{entry.resource_type}.{name}"] = (entry, bodies.pop(name))
        if entry.resource_type in resources and not bodies:
            del resources[entry.resource_type]
    for kind, bodies in resources.items():
        for name, body in bodies.items():
            _replace_references(f"{kind}.{name}", body, taken)
    _refuse_leftover_references(reduced, taken)
    return reduced, [Removed(address, entry.reason) for address, (entry, _) in taken.items()]


def _replace_references(address: str, body: Body, taken: Mapping[str, tuple[LeftOut, Body]]) -> None:
    if "depends_on" in body:
        body["depends_on"] = [d for d in body["depends_on"] if d not in taken]
        if not body["depends_on"]:
            del body["depends_on"]
    for attribute, value in list(body.items()):
        if not isinstance(value, str):
            continue
        for removed_address, (entry, removed) in taken.items():
            if f"{removed_address}." not in value:
                continue
            stand_in = entry.stand_ins.get(attribute)
            if stand_in is None:
                raise LeaveOutError(
                    f"{address}.{attribute} refers to {removed_address}, left out of the apply"
                    f" ({entry.reason}); give {entry.resource_type} a stand-in for {attribute}"
                )
            replacement = stand_in(removed, value)
            if replacement is None:
                del body[attribute]
            else:
                body[attribute] = replacement
            break


def _refuse_leftover_references(doc: Doc, taken: Mapping[str, tuple[LeftOut, Body]]) -> None:
    text = json.dumps(doc)
    for address in taken:
        if f"{address}." in text or f'"{address}"' in text:
            raise LeaveOutError(f"{address} is left out of the apply but still referred to")


def ignore_changes(doc: Doc, gaps: tuple[ReadBackGap, ...] = READ_BACK_GAPS) -> dict[str, dict[str, Body]]:
    """``resource`` blocks of an override file adding each read-back gap to ``lifecycle.ignore_changes``."""
    blocks: dict[str, dict[str, Body]] = {}
    for gap in gaps:
        for name, body in doc.get("resource", {}).get(gap.resource_type, {}).items():
            if not gap.selects(doc, body):
                continue
            existing = body.get("lifecycle", {}).get("ignore_changes", [])
            attributes = [*existing, *(a for a in gap.attributes if a not in existing)]
            blocks.setdefault(gap.resource_type, {})[name] = {"lifecycle": {"ignore_changes": attributes}}
    return blocks
