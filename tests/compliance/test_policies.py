"""Every IAM and resource policy is a ``DataAwsIamPolicyDocument`` reference, so checkov evaluates it.

checkov's IAM checks read ``data.aws_iam_policy_document`` blocks; a policy written as a JSON string
(by hand or through ``jsonencode``) is invisible to most of them and would pass unexamined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK

# Attributes that hold an IAM or resource policy in the AWS provider (key, queue, topic, bucket, role,
# endpoint, log-resource, API, repository... policies). redrive_policy / redrive_allow_policy are SQS
# settings, not policies.
POLICY_ATTRIBUTES = frozenset(
    {
        "policy",
        "assume_role_policy",
        "policy_document",
        "access_policy",
        "access_policies",
        "key_policy",
        "resource_policy",
        "inline_policy",
    }
)
DOCUMENT_REFERENCE = re.compile(r"^\$\{data\.aws_iam_policy_document\.[A-Za-z0-9_]+\.json\}$")
# A CloudWatch Logs data protection policy is not an IAM policy: its own document data source.
DATA_PROTECTION_REFERENCE = re.compile(
    r"^\$\{data\.aws_cloudwatch_log_data_protection_policy_document\.[A-Za-z0-9_]+\.json\}$"
)
# A policy smuggled into any other string: JSON text or jsonencode() with IAM's keys.
POLICY_TEXT = re.compile(r"[\"']?(Statement|Effect|Principal)[\"']?\s*[:=]")


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "//":
                continue
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def policy_violations(doc: dict[str, Any]) -> list[str]:
    """Every policy attribute that is not a policy-document reference, and every policy-like string."""
    problems = []
    for kind, resources in doc.get("resource", {}).items():
        for name, body in resources.items():
            for path, key, value in _walk(body, f"{kind}.{name}"):
                if key in POLICY_ATTRIBUTES:
                    if key == "inline_policy":
                        continue  # a block; its own "policy" attribute is checked when walked
                    expected = (
                        DATA_PROTECTION_REFERENCE
                        if kind == "aws_cloudwatch_log_data_protection_policy"
                        else DOCUMENT_REFERENCE
                    )
                    if not (isinstance(value, str) and expected.match(value)):
                        problems.append(f"{path}.{key} is not a policy document reference: {value!r:.80}")
                elif isinstance(value, str) and POLICY_TEXT.search(value):
                    problems.append(f"{path}.{key} looks like an inline policy: {value!r:.80}")
    return problems


@pytest.mark.parametrize("stack", [STATE_BACKEND_STACK, TRANSACTION_STACK])
def test_every_policy_is_a_policy_document(synth_dir: Path, stack: str):
    doc = json.loads((synth_dir / "stacks" / stack / "cdk.tf.json").read_text())
    assert policy_violations(doc) == []
    referenced = {
        m.group(1)
        for _, key, value in _walk(doc.get("resource", {}), "resource")
        if key in POLICY_ATTRIBUTES and isinstance(value, str)
        for m in [re.match(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_]+)\.json\}$", value)]
        if m
    }
    assert referenced, "no policy found at all: the walk is broken"
    assert referenced <= set(doc["data"]["aws_iam_policy_document"])


def test_hand_written_and_jsonencoded_policies_are_caught():
    statement = {"Effect": "Allow", "Action": "sqs:*", "Resource": "*", "Principal": "*"}
    doc = {
        "resource": {
            "aws_sqs_queue_policy": {"raw": {"policy": json.dumps({"Statement": [statement]})}},
            "aws_kms_key": {"encoded": {"policy": '${jsonencode({Statement = [{Effect = "Allow"}]})}'}},
            "aws_iam_role": {
                "trust": {"assume_role_policy": "${data.aws_iam_policy_document.trust.json}"},
                "inline": {"inline_policy": [{"name": "x", "policy": json.dumps({"Statement": []})}]},
            },
            "aws_ssm_parameter": {"sneaky": {"value": json.dumps({"Statement": [statement]})}},
        }
    }
    problems = "\n".join(policy_violations(doc))
    assert "aws_sqs_queue_policy.raw.policy" in problems
    assert "aws_kms_key.encoded.policy" in problems
    assert "aws_iam_role.inline.inline_policy[0].policy" in problems
    assert "aws_ssm_parameter.sneaky.value looks like an inline policy" in problems
    assert "aws_iam_role.trust" not in problems
