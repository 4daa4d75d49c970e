"""The system as one construct: its props (defaults, refusals) and the app's addresses kept.

The real proof that the app's state survives the construct is tests/terraform/test_upgrade.py (the last
release applied against moto, the current code planned against it); these tests read the session synth.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from card_transactions.settings.model import settings_of
from card_transactions.stacks.app import TRANSACTION_STACK
from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.waf import RuleActionOverride
from card_transactions.stacks.props import (
    AlertTopic,
    EncryptionProps,
    ExistingVpc,
    MonitoringProps,
    NetworkProps,
    NewNetwork,
    QueuesProps,
    StorageProps,
    TransactionProcessingProps,
)
from card_transactions.stacks.transaction_stack import SYSTEM_ID, props_from_settings, same_named
from tools.props_reference import REFERENCE, render
from tools.release_snapshot import RELEASE_DIR

# Groups the app fills from settings with nothing but the settings' values.
PLAIN_GROUPS = ("api", "fraud", "functions", "queues", "encryption")


def elements(doc: dict) -> dict[str, tuple[str, str]]:
    """Construct path -> (block, logical id) of every resource and data source of a synthesized stack."""
    return {
        body["//"]["metadata"]["path"]: (block, logical_id)
        for block in ("resource", "data")
        for kind in doc.get(block, {}).values()
        for logical_id, body in kind.items()
    }


def test_the_construct_defaults_are_the_original_systems():
    """The app with every setting at its default gives the construct exactly its own defaults."""
    app, own = props_from_settings(Settings()), TransactionProcessingProps()
    assert app.region == own.region
    assert app.naming == own.naming
    for group in PLAIN_GROUPS:
        assert getattr(app, group) == getattr(own, group), group


def test_each_props_field_named_like_a_setting_has_its_default():
    defaults = {spec.name: spec.default for spec in settings_of(Settings)}
    # The app passes the overrides with the WAF_COUNT_* ones added.
    overrides = Settings().resolved_waf_rule_action_overrides
    defaults["waf_rule_action_overrides"] = tuple(RuleActionOverride.parse(o) for o in overrides)
    checked = 0
    for group in TransactionProcessingProps().groups:
        for item in dataclasses.fields(group):  # type: ignore[arg-type]
            if item.name in defaults:
                unset = None if defaults[item.name] == "" else defaults[item.name]  # "" unset: None in props
                assert getattr(group, item.name) in (defaults[item.name], unset), item.name
                checked += 1
    assert checked >= 25


def test_a_props_field_takes_the_setting_of_its_name():
    settings = Settings.from_env(
        {"QUEUE_BATCH_SIZE": "7", "LOG_RETENTION_DAYS": "731", "FRAUD_HIGH_AMOUNT": "123.45"}
    )
    props = props_from_settings(settings)
    assert props.queues.queue_batch_size == 7
    assert props.monitoring.log_retention_days == 731
    assert str(props.fraud.fraud_high_amount) == "123.45"


def test_a_given_field_the_group_lacks_is_refused():
    with pytest.raises(ValueError, match=r"QueuesProps has no fields \['rate_limit'\]"):
        same_named(QueuesProps, Settings(), rate_limit=1)


def test_a_field_with_no_setting_of_its_name_must_be_given_or_kept():
    with pytest.raises(ValueError, match=r"fields \['existing_artifact_bucket'\] have no setting"):
        same_named(StorageProps, Settings())
    assert (
        same_named(StorageProps, Settings(), keep=("existing_artifact_bucket",)).existing_artifact_bucket
        is None
    )


KEY = "arn:aws:kms:us-east-2:123456789012:key/0f3c8a52-8a0e-4f6e-9b8f-2a1d6c7e9b10"
VPC = ExistingVpc(vpc_id="vpc-0123", private_subnet_ids=("subnet-a", "subnet-b"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: MonitoringProps(topic=AlertTopic(), existing_topic_arn="arn:aws:sns:us-east-2:1:alerts"),
            r"monitoring: give either topic \(create\) or existing_topic_arn \(bring",
        ),
        (
            lambda: NetworkProps(vpc=NewNetwork(), existing_vpc=VPC),
            r"network: give either vpc \(create\) or existing_vpc \(bring",
        ),
        (
            lambda: EncryptionProps(create_key=True, existing_key_arn=KEY),
            r"encryption: give either create_key \(create\) or existing_key_arn \(bring",
        ),
        (
            lambda: StorageProps(artifact_bucket="ours", existing_artifact_bucket="theirs"),
            r"storage: give either artifact_bucket \(create\) or existing_artifact_bucket \(bring",
        ),
        (
            lambda: ExistingVpc(vpc_id="vpc-0123", private_subnet_ids=("subnet-a",)),
            r"private_subnet_ids needs at least 2 subnets, got \['subnet-a'\]",
        ),
    ],
)
def test_creating_and_bringing_one_part_is_refused_naming_both(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_either_side_alone_is_accepted():
    assert EncryptionProps(existing_key_arn=KEY).existing_key_arn == KEY
    assert EncryptionProps(create_key=False, existing_key_arn=KEY).create_key is False
    with pytest.raises(ValueError, match=r"create_key=False needs existing_key_arn"):
        EncryptionProps(create_key=False)
    assert NetworkProps(existing_vpc=VPC).vpc is None


def test_the_props_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TransactionProcessingProps().naming.prefix = "x"  # type: ignore[misc]


def test_the_app_keeps_the_logical_id_of_every_element_of_the_last_release(synth_dir: Path):
    """The construct sits under the id cdktf leaves out of logical ids: each element of the release
    has the same address now, found by its construct path without that id."""
    stacks = Path("stacks") / TRANSACTION_STACK / "cdk.tf.json"
    released = elements(json.loads((RELEASE_DIR / stacks).read_text()))
    current = elements(json.loads((synth_dir / stacks).read_text()))
    prefix = f"{TRANSACTION_STACK}/{SYSTEM_ID}/"
    assert all(path.startswith(prefix) for path in current)
    current = {path.replace(prefix, f"{TRANSACTION_STACK}/", 1): found for path, found in current.items()}
    kept = {path: found for path, found in released.items() if path in current}
    assert len(kept) >= 0.9 * len(released)
    assert {path: current[path] for path in kept} == kept


def test_the_props_reference_is_current():
    """docs/props.md is generated from stacks/props.py: run `python -m tools.props_reference`."""
    assert REFERENCE.read_text() == render()


def test_the_props_reference_documents_every_field():
    undocumented = [line.split("|")[1].strip() for line in render().splitlines() if line.endswith("|  |")]
    assert not undocumented


def test_no_construct_init_is_longer_than_80_lines():
    """Composition reads in steps: every construct's __init__ under stacks/ delegates past 80 lines."""
    root = Path(__file__).resolve().parents[2] / "stacks"
    long = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 80:
                    long.append(f"{path.relative_to(root)}:{node.lineno} ({length} lines)")
    assert not long


def test_a_brought_vpc_gets_the_functions_security_group_of_a_created_one(stack):
    """Without its own groups, a brought VPC gets the group the created network has: HTTPS egress to
    DynamoDB's prefix list, nothing else."""
    from cdktf import TerraformStack, Testing

    from card_transactions.stacks.constructs.account import Account
    from card_transactions.stacks.constructs.existing import ExistingNetwork

    host = TerraformStack(Testing.app(), "host")
    ExistingNetwork(
        host,
        "Network",
        name="pay",
        vpc_id=VPC.vpc_id,
        subnet_ids=VPC.private_subnet_ids,
        account=Account.of(host, "us-east-2"),
    )
    doc = json.loads(Testing.synth(host))
    (rule,) = doc["resource"]["aws_vpc_security_group_egress_rule"].values()
    assert "aws_vpc_security_group_ingress_rule" not in doc["resource"]
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    assert "cidr_ipv4" not in rule
    (prefix_list,) = doc["data"]["aws_prefix_list"]
    assert rule["prefix_list_id"] == f"${{data.aws_prefix_list.{prefix_list}.id}}"
    assert doc["data"]["aws_prefix_list"][prefix_list]["name"] == "com.amazonaws.us-east-2.dynamodb"
    assert "aws_vpc" not in doc["data"]  # the VPC's CIDR is not needed
    (brought,) = doc["resource"]["aws_security_group"].values()
    created = stack.resources("aws_security_group")[
        stack.logical_id("aws_security_group", "Network/LambdaSecurityGroup")
    ]
    assert brought["description"] == created["description"]
