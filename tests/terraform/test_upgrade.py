"""The upgrade check: the last release's stateful resources applied against moto, the current code
planned against that state (tools/terraform_check/upgrade.py).

Both stacks of the release snapshot (releases/last) are applied side by side, once for the module; each
test then plans a version of the current code against the same state: as it is, with the transactions
table's construct id renamed (a real synth), and renamed with a ``moved`` block. The summary of each plan is
printed at the end of the run (``tests/terraform/conftest.py``).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from card_transactions.settings.environments import ENVIRONMENT_VARIABLE, load_environment
from card_transactions.stacks import processing
from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK, build_app
from card_transactions.stacks.config import Settings
from tools.plan_comment import findings, guard, planned_result, render_comment
from tools.release_snapshot import RELEASE_DIR, release_environment
from tools.stateful import Allowed, load_allow_list
from tools.terraform_check.check import open_directory_checks
from tools.terraform_check.moto_server import MotoServer
from tools.terraform_check.toolchain import Toolchain
from tools.terraform_check.upgrade import UpgradeBroken, UpgradeCheck, UpgradePlan

pytestmark = pytest.mark.slow
STACKS = (STATE_BACKEND_STACK, TRANSACTION_STACK)
# The transactions table's construct id (stacks/processing.py), and the one the tests rename it to.
TRANSACTIONS_ID = "TransactionTable"
RENAMED_ID = "TransactionLedger"


@pytest.fixture(scope="module")
def released(
    toolchain: Toolchain, moto: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, UpgradeCheck]:
    """Each stack of the release, its stateful resources applied against the module's moto server."""
    root = tmp_path_factory.mktemp("upgrade")
    sources = [(name, RELEASE_DIR / "stacks" / name) for name in STACKS]
    checks = {
        check.report.name: UpgradeCheck(
            toolchain,
            name=check.report.name,
            source=check.source,
            workdir=check.workdir,
            env=check.env,
            log=lambda _: None,
        )
        for check in open_directory_checks(toolchain, sources, root)
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(check.apply_release, moto.endpoint) for check in checks.values()]:
            done.result()
    return checks


def release_settings() -> Settings:
    return load_environment(Settings, {ENVIRONMENT_VARIABLE: release_environment()}).settings


@pytest.fixture(scope="module")
def current(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current code synthesized for the release's environment: the session synth when that
    environment's file keeps the defaults (as dev does here), else a synth of its settings."""
    settings = release_settings()
    if settings == Settings():
        return synth_dir
    outdir = tmp_path_factory.mktemp("release-environment")
    build_app(settings, outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current code with the transactions table's construct id renamed, synthesized for real."""
    original = processing.EncryptedTable

    def renamed_table(scope: Any, id_: str, **kwargs: Any) -> Any:
        return original(scope, RENAMED_ID if id_ == TRANSACTIONS_ID else id_, **kwargs)

    outdir = tmp_path_factory.mktemp("renamed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(processing, "EncryptedTable", renamed_table)
        build_app(release_settings(), outdir=str(outdir)).synth()
    return outdir


def plan(check: UpgradeCheck, current: Path, moto: MotoServer, record_property, **kwargs: Any) -> UpgradePlan:
    result = check.plan_current(current / "stacks" / check.report.name, moto.endpoint, **kwargs)
    record_property("upgrade plan", result.summary())
    print(result.summary())
    return result


def table_address(outdir: Path) -> str:
    """The Terraform address of the transactions table in a synthesized transaction stack."""
    doc = json.loads((outdir / "stacks" / TRANSACTION_STACK / "cdk.tf.json").read_text())
    tables = doc["resource"]["aws_dynamodb_table"]
    name = next(
        name for name, body in tables.items() if body["name"] == release_settings().transaction_table_name
    )
    return f"aws_dynamodb_table.{name}"


@pytest.mark.parametrize("stack", STACKS)
def test_the_current_code_keeps_every_stateful_resource_of_the_last_release(
    released: dict[str, UpgradeCheck], current: Path, moto: MotoServer, record_property, stack: str
):
    check = released[stack]
    result = plan(check, current, moto, record_property)
    assert check.report.created  # the release's state holds its stateful resources
    result.check(release_environment(), load_allow_list())  # raises naming what would be lost


def test_a_renamed_transactions_table_fails_the_check(
    released: dict[str, UpgradeCheck], current: Path, renamed: Path, moto: MotoServer, record_property
):
    old, new = table_address(current), table_address(renamed)
    assert old != new  # the construct id is part of the address
    result = plan(released[TRANSACTION_STACK], renamed, moto, record_property)
    assert [(d.address, d.action) for d in result.destructive] == [(old, "delete")]
    environment = release_environment()
    with pytest.raises(UpgradeBroken, match=rf"{re.escape(old)}: delete \(loses its items"):
        result.check(environment, load_allow_list())
    # An allow-list entry of the release's environment, with its reason, accepts that one loss.
    reason = "the table is recreated empty on purpose, for a new key schema"
    result.check(environment, [Allowed(environment, TRANSACTION_STACK, old, reason)])
    with pytest.raises(UpgradeBroken):
        result.check(environment, [Allowed("prod", TRANSACTION_STACK, old, reason)])
    # The pull-request plan guard, given the same real plan, blocks it too.
    stack_result = planned_result(TRANSACTION_STACK, result.plan, changed=True)
    found = findings([(stack_result, "")], environment, load_allow_list())
    code, report = guard(found, environment)
    assert code == 1
    assert f"BLOCKING: `{TRANSACTION_STACK}`: `{old}` would be deleted" in report
    assert ":no_entry: **blocking**" in render_comment([(stack_result, "")], environment, found=found)


def test_a_moved_block_keeps_the_renamed_table(
    released: dict[str, UpgradeCheck], current: Path, renamed: Path, moto: MotoServer, record_property
):
    moved = {"from": table_address(current), "to": table_address(renamed)}
    result = plan(
        released[TRANSACTION_STACK],
        renamed,
        moto,
        record_property,
        change=lambda doc: {**doc, "moved": [moved]},
    )
    result.check(release_environment())
