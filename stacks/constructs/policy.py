"""Helpers for IAM and resource policies. Every policy is a ``DataAwsIamPolicyDocument`` so checkov
evaluates it (raw JSON strings are invisible to most IAM checks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

Statement = DataAwsIamPolicyDocumentStatement


def allow(sid: str, actions: Sequence[str], resources: Sequence[str], **kwargs) -> Statement:
    """An ``Allow`` statement on exact resources."""
    return Statement(sid=sid, effect="Allow", actions=list(actions), resources=list(resources), **kwargs)


def principals(kind: str, *identifiers: str) -> list[DataAwsIamPolicyDocumentStatementPrincipals]:
    return [DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(identifiers))]


def condition(test: str, variable: str, *values: str) -> DataAwsIamPolicyDocumentStatementCondition:
    return DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))


def deny_insecure_transport(actions: Sequence[str], resources: Sequence[str]) -> Statement:
    """Deny every request to ``resources`` that does not use TLS (PCI DSS 4.2.1)."""
    return Statement(
        sid="DenyInsecureTransport",
        effect="Deny",
        actions=list(actions),
        resources=list(resources),
        principals=principals("*", "*"),
        condition=[condition("Bool", "aws:SecureTransport", "false")],
    )


def deny_other_principals(
    sid: str, actions: Sequence[str], resources: Sequence[str], allowed: Sequence[str]
) -> Statement:
    """Deny ``actions`` to every IAM principal of any account except the roles ``allowed`` (ARNs; none:
    deny them all). ``aws:PrincipalArn`` is the role itself for a session of that role. Service
    principals carry no ``aws:PrincipalArn`` and are left to the statements that name them."""
    conditions = [condition("Null", "aws:PrincipalArn", "false")]
    if allowed:
        conditions.insert(0, condition("ArnNotEquals", "aws:PrincipalArn", *allowed))
    return Statement(
        sid=sid,
        effect="Deny",
        actions=list(actions),
        resources=list(resources),
        principals=principals("*", "*"),
        condition=conditions,
    )


def policy_document(scope: Construct, id_: str, statements: Iterable[Statement]) -> DataAwsIamPolicyDocument:
    """A policy document; statements with the same ``sid`` are kept once (grants often repeat KMS)."""
    unique: dict[str, Statement] = {}
    for stmt in statements:
        unique.setdefault(stmt.sid or f"S{len(unique)}", stmt)
    return DataAwsIamPolicyDocument(scope, id_, statement=list(unique.values()))


def service_role(
    scope: Construct, id_: str, *, name: str, service: str, account_id: str, description: str
) -> IamRole:
    """A role that only ``service`` can assume, and only on behalf of this account."""
    trust = DataAwsIamPolicyDocument(
        scope,
        f"{id_}Trust",
        statement=[
            Statement(
                sid="AssumeByService",
                effect="Allow",
                actions=["sts:AssumeRole"],
                principals=principals("Service", service),
                condition=[condition("StringEquals", "aws:SourceAccount", account_id)],
            )
        ],
    )
    return IamRole(scope, id_, name=name, description=description, assume_role_policy=trust.json)


def apply_permissions_boundary(scope: Construct, boundary_arn: str) -> list[IamRole]:
    """Set ``boundary_arn`` as the permissions boundary of every role under ``scope`` (call once the
    scope is complete); returns the roles."""
    roles = [node for node in scope.node.find_all() if isinstance(node, IamRole)]
    for role in roles:
        role.permissions_boundary = boundary_arn
    return roles
