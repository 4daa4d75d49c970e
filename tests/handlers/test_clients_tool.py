"""``python -m tools.clients``: keys through API Gateway's API, rotation with overlap, conditional
merchant bindings; a key value printed once, on stdout only (moto)."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tools import clients
from tools.clients import ClientLifecycle, Names, Refused

REGION = "us-east-2"
NAMES = Names("transaction-api-test", "api-keys-test", "merchant-config-test")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lifecycle(aws: Any, clock: Clock) -> ClientLifecycle:
    """GIVEN the stack's usage plans of acme and globex (and another API's), the key table, merchants."""
    apigateway = boto3.client("apigateway", region_name=REGION)
    for client in ("acme", "globex"):
        apigateway.create_usage_plan(name=f"{NAMES.api_name}-{client}", tags={"ApiClient": client})
    apigateway.create_usage_plan(name="another-api-acme", tags={"ApiClient": "acme"})
    aws.put_merchant("m_acme", name="Acme Stores", clients={"acme"})
    aws.put_merchant("m_open", name="Open Shop")
    aws.put_merchant("m_listed", name="Listed", clients=["acme"])
    return ClientLifecycle(apigateway, aws.dynamodb, NAMES, clock=clock)


def _plan_keys(lifecycle: ClientLifecycle, client: str) -> set[str]:
    plan_id = lifecycle.plan_id(client)
    return {k["id"] for k in lifecycle._apigateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]}


def test_add_creates_a_key_in_the_clients_plan_and_records_only_its_id(lifecycle):
    key = lifecycle.add("acme")
    assert len(key.value) >= 20
    assert _plan_keys(lifecycle, "acme") == {key.key_id}
    (record,) = lifecycle.keys("acme")
    assert record == {
        "key_id": key.key_id,
        "client": "acme",
        "state": "active",
        "created_at": "2026-12-06T09:00:00Z",
    }
    assert key.value not in json.dumps(lifecycle.describe())
    # a second add is refused (rotate instead); an unknown client is refused with the known ones
    with pytest.raises(Refused, match="has a key already"):
        lifecycle.add("acme")
    with pytest.raises(Refused, match=r"unknown client 'initech': the stack's clients are acme, globex"):
        lifecycle.add("initech")


def test_rotation_keeps_both_keys_for_the_grace_period_then_revokes_the_old(lifecycle, clock):
    old = lifecycle.add("acme")
    new = lifecycle.rotate("acme", timedelta(hours=24))
    assert _plan_keys(lifecycle, "acme") == {old.key_id, new.key_id}
    states = {k["key_id"]: (k["state"], k.get("retire_after")) for k in lifecycle.keys("acme")}
    assert states == {old.key_id: ("retiring", "2026-12-07T09:00:00Z"), new.key_id: ("active", None)}
    with pytest.raises(Refused, match="a rotation starts from one active key"):
        lifecycle.rotate("acme", timedelta(hours=1))
    # before the grace period ends: refused unless forced
    clock.now += timedelta(hours=23)
    with pytest.raises(Refused, match="runs until 2026-12-07T09:00:00Z"):
        lifecycle.finish_rotation("acme")
    clock.now += timedelta(hours=1)
    assert lifecycle.finish_rotation("acme") == [old.key_id]
    assert _plan_keys(lifecycle, "acme") == {new.key_id}
    assert old.key_id not in {k["id"] for k in lifecycle._apigateway.get_api_keys()["items"]}
    assert {k["key_id"]: k["state"] for k in lifecycle.keys("acme")} == {
        old.key_id: "revoked",
        new.key_id: "active",
    }
    with pytest.raises(Refused, match="no rotation in progress"):
        lifecycle.finish_rotation("acme")


def test_revoke_deletes_the_clients_keys_at_once(lifecycle):
    old = lifecycle.add("acme")
    new = lifecycle.rotate("acme", timedelta(days=7))
    assert lifecycle.revoke("acme", old.key_id) == [old.key_id]
    assert _plan_keys(lifecycle, "acme") == {new.key_id}
    assert lifecycle.revoke("acme") == [new.key_id]
    assert _plan_keys(lifecycle, "acme") == set()
    with pytest.raises(Refused, match="no live key"):
        lifecycle.revoke("acme")
    lifecycle.add("acme")  # a revoked client can start again


def test_bind_and_unbind_are_conditional(lifecycle, aws):
    lifecycle.bind("globex", "m_acme")
    lifecycle.bind("globex", "m_acme")  # idempotent
    assert lifecycle.merchants()["m_acme"] == ["acme", "globex"]
    lifecycle.bind("globex", "m_open")
    assert lifecycle.merchants()["m_open"] == ["globex"]
    with pytest.raises(Refused, match="unknown client 'acme2'"):
        lifecycle.bind("acme2", "m_acme")
    with pytest.raises(Refused, match="unknown merchant 'm_none'"):
        lifecycle.bind("globex", "m_none")
    assert "m_none" not in lifecycle.merchants()  # nothing half-written
    with pytest.raises(Refused, match="as a list, not a string set"):
        lifecycle.bind("globex", "m_listed")
    lifecycle.unbind("globex", "m_acme")
    assert lifecycle.merchants()["m_acme"] == ["acme"]
    with pytest.raises(Refused, match="not bound to 'globex'"):
        lifecycle.unbind("globex", "m_acme")
    with pytest.raises(Refused, match="last client of 'm_acme'"):
        lifecycle.unbind("acme", "m_acme")


def test_list_describes_plans_keys_and_merchants(lifecycle):
    key = lifecycle.add("acme")
    described = {c["client"]: c for c in lifecycle.describe()}
    assert set(described) == {"acme", "globex"}  # not the other API's plan
    assert described["acme"]["merchants"] == ["m_acme", "m_listed"]
    assert [k["key_id"] for k in described["acme"]["keys"]] == [key.key_id]
    assert described["globex"]["keys"] == []


def test_adopt_records_keys_already_in_the_plans(lifecycle):
    apigateway = lifecycle._apigateway
    former = apigateway.create_api_key(name="transaction-api-test-globex", enabled=True)["id"]
    apigateway.create_usage_plan_key(usagePlanId=lifecycle.plan_id("globex"), keyId=former, keyType="API_KEY")
    assert lifecycle.adopt() == [former]
    assert [(k["key_id"], k["client"], k["state"]) for k in lifecycle.keys("globex")] == [
        (former, "globex", "active")
    ]
    assert lifecycle.adopt() == []


def test_the_command_prints_a_new_key_once_on_stdout_and_never_on_stderr(lifecycle):
    out, err = io.StringIO(), io.StringIO()
    clients.run(argparse.Namespace(command="add", client="acme"), lifecycle, out, err)
    value = out.getvalue().strip()
    (record,) = lifecycle.keys("acme")
    assert value and value != record["key_id"] and "\n" not in value
    assert value not in err.getvalue() and record["key_id"] in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    clients.run(argparse.Namespace(command="list"), lifecycle, out, err)
    assert value not in out.getvalue() + err.getvalue()


def test_main_refuses_with_exit_status_2(lifecycle, monkeypatch, capsys):
    monkeypatch.setattr(clients, "_lifecycle", lambda endpoint: lifecycle)
    assert clients.main(["bind", "nobody", "m_acme"]) == 2
    assert "refused: unknown client 'nobody'" in capsys.readouterr().err


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_names_come_from_the_environment_file_the_deploy_acts_on(environment):
    # GIVEN the environment make passes on (DEPLOY_ENV), WHEN the command names the stack's parts,
    # THEN they are that environment's, as its synth names them
    from card_transactions.settings.environments import load_environment
    from card_transactions.stacks.config import Settings

    environ = {"DEPLOY_ENV": environment}
    settings = load_environment(Settings, environ).settings
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clients.os, "environ", environ)
        names = Names.of_settings()
    assert names == Names(settings.api_name, settings.api_key_table_name, settings.merchant_table_name)
    assert names.key_table.endswith(f"-{environment}")
