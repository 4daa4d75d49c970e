"""The list of what moto cannot emulate, and how the scratch copy leaves it out: no terraform needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tools.terraform_check.moto_gaps import (
    LEFT_OUT,
    READ_BACK_GAPS,
    LeaveOutError,
    LeftOut,
    ignore_changes,
    leave_out,
)
from tools.terraform_check.workdir import read_stack

TERRAFORM_CHECK_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "terraform-check.md").read_text()


@pytest.fixture(scope="module")
def stacks(synth_dir: Path) -> dict[str, dict]:
    return {
        name: read_stack(synth_dir / "stacks" / name) for name in (STATE_BACKEND_STACK, TRANSACTION_STACK)
    }


def test_functions_deploy_the_unsigned_package_without_a_signing_config(stacks):
    doc = stacks[TRANSACTION_STACK]
    reduced, removed = leave_out(doc)
    functions = reduced["resource"]["aws_lambda_function"]
    objects = doc["resource"]["aws_s3_object"]
    assert len(functions) == 4
    for name, function in functions.items():
        assert "code_signing_config_arn" not in function
        original = doc["resource"]["aws_lambda_function"][name]
        assert original["code_signing_config_arn"].startswith("${aws_lambda_code_signing_config.")
        uploads = [o for o in objects if f"aws_s3_object.{o}.key" in function["s3_key"]]
        assert len(uploads) == 1
        assert function["s3_bucket"] == f"${{aws_s3_object.{uploads[0]}.bucket}}"
    kinds = {r.address.split(".")[0] for r in removed}
    assert kinds == {e.resource_type for e in LEFT_OUT}
    assert "aws_signer_signing_profile" in reduced["resource"]  # moto has profiles: created


def test_only_the_policy_of_the_bucket_receiving_uploads_is_left_out(stacks):
    _, removed = leave_out(stacks[TRANSACTION_STACK])
    policies = [r.address for r in removed if r.address.startswith("aws_s3_bucket_policy.")]
    assert len(policies) == 1
    assert "ArtifactBucketPolicy" in policies[0]
    reduced, removed = leave_out(stacks[STATE_BACKEND_STACK])
    assert len(reduced["resource"]["aws_s3_bucket_policy"]) == 2  # no uploads there: both created
    assert [r.address.split(".")[0] for r in removed] == ["aws_s3_bucket_logging"]


def test_the_synthesized_stacks_are_not_changed(stacks):
    before = repr(stacks[TRANSACTION_STACK])
    leave_out(stacks[TRANSACTION_STACK])
    assert repr(stacks[TRANSACTION_STACK]) == before


def test_a_reference_without_a_stand_in_stops_the_check():
    doc = {
        "resource": {
            "aws_thing": {"T": {"name": "t"}},
            "aws_user": {"U": {"thing_arn": "${aws_thing.T.arn}", "depends_on": ["aws_thing.T"]}},
        }
    }
    entry = LeftOut("aws_thing", "moto has no things")
    with pytest.raises(LeaveOutError, match=r"aws_user.U.thing_arn refers to aws_thing.T"):
        leave_out(doc, (entry,))
    nested = {
        "resource": {**doc["resource"], "aws_user": {"U": {"env": {"vars": {"X": "${aws_thing.T.id}"}}}}}
    }
    with pytest.raises(LeaveOutError, match=r"aws_thing\.T is left out of the apply but still referred to"):
        leave_out(nested, (entry,))


def test_stand_ins_replace_or_drop_the_reference_and_depends_on_is_pruned():
    doc = {
        "resource": {
            "aws_thing": {"T": {"name": "t"}},
            "aws_user": {"U": {"thing_arn": "${aws_thing.T.arn}", "depends_on": ["aws_thing.T"], "keep": 1}},
        }
    }
    reduced, removed = leave_out(
        doc, (LeftOut("aws_thing", "why", stand_ins={"thing_arn": lambda _b, _v: None}),)
    )
    assert reduced == {"resource": {"aws_user": {"U": {"keep": 1}}}}
    assert [r.address for r in removed] == ["aws_thing.T"]


def test_read_back_gaps_become_ignore_changes_on_exactly_those_attributes(stacks):
    blocks = ignore_changes(stacks[TRANSACTION_STACK])
    key = next(iter(blocks["aws_kms_key"].values()))
    assert key == {"lifecycle": {"ignore_changes": ["rotation_period_in_days"]}}
    rules = stacks[TRANSACTION_STACK]["resource"]["aws_vpc_security_group_egress_rule"]
    assert set(blocks["aws_vpc_security_group_egress_rule"]) == set(rules)  # all to DynamoDB's prefix list
    # moto reads back the description of a CIDR rule: that one is still compared.
    mixed = {
        "resource": {
            "aws_vpc_security_group_egress_rule": {
                "ToCidr": {"cidr_ipv4": "10.0.0.0/16", "description": "d"},
                "ToPrefixList": {"prefix_list_id": "pl-1", "description": "d"},
            }
        }
    }
    assert set(ignore_changes(mixed)["aws_vpc_security_group_egress_rule"]) == {"ToPrefixList"}


def test_no_entry_of_the_lists_is_stale(stacks):
    types = {kind for doc in stacks.values() for kind in doc["resource"]}
    assert {e.resource_type for e in LEFT_OUT} <= types
    assert {g.resource_type for g in READ_BACK_GAPS} <= types
    ignored = {kind for doc in stacks.values() for kind in ignore_changes(doc)}
    assert ignored == {g.resource_type for g in READ_BACK_GAPS}


def test_the_docs_mirror_the_list():
    section = TERRAFORM_CHECK_PAGE
    for entry in LEFT_OUT:
        assert f"| `{entry.resource_type}`" in section
    for gap in READ_BACK_GAPS:
        for attribute in gap.attributes:
            assert f"`{gap.resource_type}.{attribute}`" in section
