"""The local gateway's view of API keys, read from API Gateway in moto: a new key is admitted at once, a
removed or disabled one is refused once the view is re-read (every half second)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.api_keys import REFRESH_SECONDS, AdmittedKey, KeyLookup


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def apigateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("apigateway", region_name="us-east-2")


def _key(apigateway: Any, plan_id: str, value: str) -> str:
    key_id = apigateway.create_api_key(name=value, enabled=True, value=value)["id"]
    apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key_id, keyType="API_KEY")
    return key_id


def test_keys_of_the_clients_plans_are_admitted_new_ones_at_once_removed_ones_after_a_refresh(apigateway):
    plans = {name: apigateway.create_usage_plan(name=f"api-{name}")["id"] for name in ("acme", "globex")}
    clock = Clock()
    lookup = KeyLookup(apigateway, plans, clock=clock)
    acme = _key(apigateway, plans["acme"], "acme-key-0123456789abc")
    apigateway.create_api_key(name="planless", enabled=True, value="planless-key-0123456789")
    assert lookup.find("acme-key-0123456789abc") == AdmittedKey(acme, "acme")
    assert lookup.find("planless-key-0123456789") is None  # not in a usage plan of the stage
    # a key created now is admitted on its first request, without waiting for the refresh
    globex = _key(apigateway, plans["globex"], "globex-key-0123456789ab")
    assert lookup.find("globex-key-0123456789ab") == AdmittedKey(globex, "globex")
    # a deleted key and a disabled one are refused once the view is re-read
    apigateway.delete_usage_plan_key(usagePlanId=plans["acme"], keyId=acme)
    apigateway.update_api_key(
        apiKey=globex, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    assert lookup.find("acme-key-0123456789abc") is not None  # the view is at most half a second old
    clock.now += REFRESH_SECONDS + 0.01
    assert lookup.find("acme-key-0123456789abc") is None
    assert lookup.find("globex-key-0123456789ab") is None
