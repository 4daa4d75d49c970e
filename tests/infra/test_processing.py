"""The system as one construct: its props (defaults, refusals) and the app's addresses kept.

The real proof that the app's state survives the construct is tests/terraform/test_upgrade.py (the last
release applied against moto, the current code planned against it); these tests read the session synth.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from settings.model import settings_of
from stacks.app import TRANSACTION_STACK
from stacks.config import Settings
from stacks.constructs.waf import RuleActionOverride
from stacks.props import (
    AlertTopic,
    MonitoringProps,
    TransactionProcessingProps,
)
from stacks.transaction_stack import SYSTEM_ID, props_from_settings
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
    overrides = defaults["waf_rule_action_overrides"]
    defaults["waf_rule_action_overrides"] = tuple(RuleActionOverride.parse(o) for o in overrides)
    checked = 0
    for group in TransactionProcessingProps().groups:
        for item in dataclasses.fields(group):  # type: ignore[arg-type]
            if item.name in defaults:
                assert getattr(group, item.name) == defaults[item.name], item.name
                checked += 1
    assert checked >= 25


def test_creating_and_bringing_one_part_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"monitoring: give either topic \(create\) or existing_topic_arn"):
        MonitoringProps(topic=AlertTopic(), existing_topic_arn="arn:aws:sns:us-east-2:123456789012:alerts")


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
