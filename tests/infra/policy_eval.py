"""A small evaluator of the synthesized IAM and resource policies, for requests made by an IAM role of
the stack's own account.

It resolves the ``${...}`` references of a synthesized stack to concrete ARNs (fixed account, the
provider's region, names from the resources) and decides a request the way IAM does within one account:
an explicit ``Deny`` in the identity policy or in the resource's policy wins; a KMS key is used only if
its key policy allows the caller (directly, or the account root, which delegates to the identity
policy); any other resource is allowed when the identity policy or the resource policy allows it.

What it does not model (a request that depends on one of these is out of its reach): service control
policies, permissions boundaries and session policies; ``NotAction``, ``NotResource`` and
``NotPrincipal`` (it refuses statements with them); condition operators other than the ``String*``,
``Arn*``, ``Bool`` and ``Null`` families (it refuses them) and the ``ForAnyValue``/``ForAllValues``
set qualifiers; policy variables (``${aws:username}``); cross-account requests and service principals
(every request comes from a role of ``ACCOUNT``); grants, ACLs, VPC endpoint policies (requests are
assumed to arrive over TLS from outside the VPC). An unresolvable reference is an error, never a
silent non-match.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.infra.synth import Stack

ACCOUNT = "123456789012"
PARTITION = "aws"
ALLOW, IMPLICIT_DENY, EXPLICIT_DENY = "allow", "implicit deny", "explicit deny"
_REF = re.compile(r"\$\{([^}]+)\}")
_UNSUPPORTED = ("not_actions", "not_resources", "not_principals")


@dataclass(frozen=True)
class Request:
    """One API call: ``action`` on ``resource`` by the role ``principal``; ``via`` is the service
    (``sqs``, ``dynamodb``, ...) that makes a KMS call on the caller's behalf."""

    principal: str
    action: str
    resource: str
    via: str | None = None
    keys: tuple[tuple[str, str], ...] = ()  # further condition keys of the request

    def context(self, region: str) -> dict[str, str]:
        keys = {
            "aws:PrincipalArn": self.principal,
            "aws:PrincipalAccount": ACCOUNT,
            "aws:SecureTransport": "true",
            "kms:CallerAccount": ACCOUNT,
        }
        if self.via:
            keys["kms:ViaService"] = f"{self.via}.{region}.amazonaws.com"
        return keys | dict(self.keys)


class Resolver:
    """Concrete values for a stack's references."""

    ARNS: Mapping[str, str] = {
        "aws_sqs_queue": "arn:aws:sqs:{region}:{account}:{name}",
        "aws_sns_topic": "arn:aws:sns:{region}:{account}:{name}",
        "aws_dynamodb_table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
        "aws_iam_role": "arn:aws:iam::{account}:role/{name}",
        "aws_iam_policy": "arn:aws:iam::{account}:policy/{name}",
        "aws_lambda_function": "arn:aws:lambda:{region}:{account}:function:{function_name}",
        "aws_cloudwatch_log_group": "arn:aws:logs:{region}:{account}:log-group:{name}",
        "aws_scheduler_schedule": "arn:aws:scheduler:{region}:{account}:schedule/default/{name}",
        "aws_s3_bucket": "arn:aws:s3:::{bucket}",
        "aws_kms_key": "arn:aws:kms:{region}:{account}:key/{stack}-{logical}",  # ids repeat across stacks
        "aws_api_gateway_rest_api": "arn:aws:apigateway:{region}::/restapis/api-{logical}",
        "aws_pipes_pipe": "arn:aws:pipes:{region}:{account}:pipe/{name}",
        "aws_cloudwatch_event_bus": "arn:aws:events:{region}:{account}:event-bus/{name}",
        "aws_cloudwatch_event_rule": "arn:aws:events:{region}:{account}:rule/{event_bus_name}/{name}",
    }

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.region = stack.doc["provider"]["aws"][0]["region"]
        self.name = stack.doc["//"]["metadata"]["stackName"]

    def value(self, text: str) -> str:
        return _REF.sub(lambda m: self._reference(m.group(1)), text)

    def _reference(self, ref: str) -> str:
        parts = ref.split(".")
        if parts[:2] == ["data", "aws_caller_identity"] and parts[-1] == "account_id":
            return ACCOUNT
        if parts[:2] == ["data", "aws_partition"] and parts[-1] == "partition":
            return PARTITION
        if len(parts) != 3 or parts[1] not in self.stack.resources(parts[0]):
            raise ValueError(f"cannot resolve ${{{ref}}}")
        kind, logical, attribute = parts
        body = self.stack.resources(kind)[logical]
        fields = {
            k: self.value(body[k])
            for k in ("name", "function_name", "bucket", "event_bus_name")
            if isinstance(body.get(k), str)
        }
        fields |= {"region": self.region, "account": ACCOUNT, "logical": logical, "stack": self.name}
        if kind == "aws_sqs_queue" and attribute == "url":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{fields['name']}"
        if kind == "aws_dynamodb_table" and attribute == "stream_arn":
            return self.ARNS[kind].format(**fields) + "/stream/2026-01-01T00:00:00.000"
        if kind == "aws_api_gateway_rest_api" and attribute == "id":
            return f"api-{logical}"
        if kind == "aws_kms_key" and attribute in ("key_id", "id"):
            return f"{self.name}-{logical}"
        if kind in ("aws_iam_role", "aws_s3_bucket") and attribute == "id":
            return fields["name" if kind == "aws_iam_role" else "bucket"]
        if attribute == "name" and "name" in fields:
            return fields["name"]
        if attribute == "arn" and kind in self.ARNS:
            return self.ARNS[kind].format(**fields)
        raise ValueError(f"cannot resolve ${{{ref}}}")

    def statements(self, document_reference: str) -> list[dict[str, Any]]:
        """The statements of a ``${data.aws_iam_policy_document.X.json}`` with every reference resolved."""
        return [self._resolved(s) for s in self.stack.policy_document(document_reference)["statement"]]

    def _resolved(self, item: Any) -> Any:
        if isinstance(item, str):
            return self.value(item)
        if isinstance(item, list):
            return [self._resolved(i) for i in item]
        if isinstance(item, dict):
            return {k: self._resolved(v) for k, v in item.items()}
        return item


@dataclass
class ResourcePolicies:
    """Every resource policy of the stacks, by the ARN of the resource it guards (a bucket's covers its
    objects)."""

    by_arn: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def of(cls, *stacks: Stack) -> ResourcePolicies:
        found = cls()
        for stack in stacks:
            r = Resolver(stack)
            for body in stack.resources("aws_sqs_queue_policy").values():
                url = r.value(body["queue_url"])
                name = url.rsplit("/", 1)[1]
                found.by_arn[f"arn:aws:sqs:{r.region}:{ACCOUNT}:{name}"] = r.statements(body["policy"])
            for body in stack.resources("aws_sns_topic_policy").values():
                found.by_arn[r.value(body["arn"])] = r.statements(body["policy"])
            for logical, body in stack.resources("aws_kms_key").items():
                found.by_arn[r.value(f"${{aws_kms_key.{logical}.arn}}")] = r.statements(body["policy"])
            for body in stack.resources("aws_s3_bucket_policy").values():
                found.by_arn[f"arn:aws:s3:::{r.value(body['bucket'])}"] = r.statements(body["policy"])
        return found

    def guarding(self, resource: str) -> tuple[str, list[dict[str, Any]]] | None:
        for arn, statements in self.by_arn.items():
            if resource == arn or (arn.startswith("arn:aws:s3:::") and resource.startswith(f"{arn}/")):
                return arn, statements
        return None


def _matches(patterns: Iterable[str], value: str, *, case_insensitive: bool = False) -> bool:
    if case_insensitive:
        return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in patterns)
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def _condition_holds(cond: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    test, values = cond["test"], cond["values"]
    if_exists = test.endswith("IfExists")
    operator = test.removesuffix("IfExists")
    present = cond["variable"] in context
    actual = context.get(cond["variable"], "")
    if operator == "Null":
        return (not present) == (values == ["true"])
    if not present:
        return if_exists or operator.startswith(("StringNot", "ArnNot"))
    if operator in ("StringEquals", "ArnEquals"):
        return actual in values
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return actual not in values
    if operator in ("StringLike", "ArnLike"):
        return _matches(values, actual)
    if operator in ("StringNotLike", "ArnNotLike"):
        return not _matches(values, actual)
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() in (v.lower() for v in values)
    if operator == "Bool":
        return actual.lower() in (v.lower() for v in values)
    raise ValueError(f"condition operator {test} is not modelled")


def _principal_match(statement: Mapping[str, Any], principal: str) -> str | None:
    """ "direct" when the statement names the principal (or everyone), "account" when it names the
    account root (IAM policies decide), else None."""
    root = f"arn:aws:iam::{ACCOUNT}:root"
    best = None
    for p in statement.get("principals", []):
        if p["type"] == "*" or (
            p["type"] == "AWS" and ("*" in p["identifiers"] or principal in p["identifiers"])
        ):
            return "direct"
        if p["type"] == "AWS" and (root in p["identifiers"] or ACCOUNT in p["identifiers"]):
            best = "account"
    return best


def _applies(statement: Mapping[str, Any], request: Request, region: str) -> bool:
    unsupported = [k for k in _UNSUPPORTED if statement.get(k)]
    if unsupported:
        raise ValueError(f"{statement.get('sid')}: {unsupported} not modelled")
    return (
        _matches(statement.get("actions", []), request.action, case_insensitive=True)
        and _matches(statement.get("resources", ["*"]), request.resource)
        and all(_condition_holds(c, request.context(region)) for c in statement.get("condition", []))
    )


def decide(
    request: Request,
    *,
    identity: Sequence[Mapping[str, Any]] | None,
    resource_policies: ResourcePolicies,
    region: str,
) -> tuple[str, str]:
    """(decision, reason). ``identity=None``: the principal's IAM policy is not one of the stack's
    documents; it is taken to allow the request, and only the stack's resource policies decide."""
    guard = resource_policies.guarding(request.resource)
    resource_statements = guard[1] if guard else []
    relevant_resource = [
        s
        for s in resource_statements
        if _principal_match(s, request.principal) and _applies(s, request, region)
    ]
    relevant_identity = [s for s in identity or [] if _applies(s, request, region)]
    for s in (*relevant_identity, *relevant_resource):
        if s["effect"] == "Deny":
            return EXPLICIT_DENY, f"statement {s.get('sid')!r}"
    identity_allows = identity is None or any(s["effect"] == "Allow" for s in relevant_identity)
    grants = {_principal_match(s, request.principal) for s in relevant_resource if s["effect"] == "Allow"}
    on_a_key = request.action.startswith("kms:") and ":key/" in request.resource
    if "direct" in grants or (identity_allows and ("account" in grants or not on_a_key)):
        return ALLOW, "allowed"
    if on_a_key:
        return IMPLICIT_DENY, "the key policy does not allow it"
    return IMPLICIT_DENY, "no statement allows it"


def from_aws_json(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy in IAM's JSON (``Effect``, ``Action``, ``Condition``...) in the form of
    a synthesized policy document, which ``decide`` reads."""

    def listed(value: Any) -> list[str]:
        return value if isinstance(value, list) else [value]

    statements = []
    for s in document["Statement"]:
        conditions = [
            {"test": test, "variable": variable, "values": listed(values)}
            for test, pairs in s.get("Condition", {}).items()
            for variable, values in pairs.items()
        ]
        statements.append(
            {
                "sid": s.get("Sid"),
                "effect": s["Effect"],
                "actions": listed(s["Action"]),
                "resources": listed(s["Resource"]),
                "condition": conditions,
            }
        )
    return statements
