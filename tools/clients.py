"""The API clients' lifecycle (``make clients``): keys, rotation with overlap, merchant bindings.

A client is what ``API_CLIENTS`` declares: the stack creates its usage plan (named ``{api}-{client}``,
tagged ``ApiClient``). Its keys are created here, through API Gateway's API, added to that plan by id and
recorded (id, client, state, never the value) in the API key table the validation function reads; so no
key value is ever in Terraform's configuration or state. Works against AWS (your credentials,
``AWS_REGION``, ``ENVIRONMENT_SUFFIX``) or ``make local`` (``--endpoint-url http://127.0.0.1:5000``).

Commands::

    list                                   clients, their usage plans, keys (ids and states) and merchants
    add CLIENT                             the client's first key
    rotate CLIENT [--grace-hours H]        a new key; the current one keeps working for H hours (168)
    finish-rotation CLIENT [--force]       revoke the retired key (refused before its grace period ends)
    revoke CLIENT [--key-id ID]            delete the client's keys (or one) now
    bind CLIENT MERCHANT                   the merchant admits the client
    unbind CLIENT MERCHANT                 it no longer does (never its last client)
    adopt                                  record the keys already in the clients' usage plans

A new key's value is printed once, alone on stdout, and nowhere else: nothing logs it, and API Gateway
shows it again only to whoever may call ``apigateway:GET`` on it. Everything else goes to stderr. Every
write is conditional: a key is recorded only if its id is new, a merchant gains a client only if the
merchant exists and the client is one of the stack's, a rotation starts only from one active key. A
binding or revocation is seen by the validation function within ``MERCHANT_CACHE_TTL_SECONDS``; a revoked
key is refused by API Gateway within seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from card_transactions.handlers.domain.api_keys import KeyState
from card_transactions.settings.system import API_CLIENT_TAG

DEFAULT_GRACE_HOURS = 168  # a week: long enough for a merchant's deploy cycle to pick up the new key


class Refused(Exception):
    """A command that would leave a client, key or merchant in a state it must not be in."""


@dataclass(frozen=True)
class Names:
    """Where the stack keeps a client's parts (``stacks.config.Settings`` names them)."""

    api_name: str
    key_table: str
    merchant_table: str

    @classmethod
    def of_settings(cls) -> Names:
        """The names of the environment ``DEPLOY_ENV`` names (its committed file, variables overriding)."""
        from card_transactions.settings.environments import load_environment
        from card_transactions.stacks.config import Settings

        settings = load_environment(Settings, os.environ).settings
        return cls(settings.api_name, settings.api_key_table_name, settings.merchant_table_name)


@dataclass(frozen=True)
class NewKey:
    client: str
    key_id: str
    value: str


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClientLifecycle:
    def __init__(
        self,
        apigateway: Any,
        dynamodb: Any,
        names: Names,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._apigateway = apigateway
        self._dynamodb = dynamodb
        self._names = names
        self._clock = clock

    # --- reading ------------------------------------------------------------------------------------

    def plans(self) -> dict[str, dict[str, Any]]:
        """Client name -> its usage plan (the stack's plans: named ``{api}-{client}``, tagged)."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._apigateway.get_paginator("get_usage_plans").paginate():
            for plan in page.get("items", []):
                client = (plan.get("tags") or {}).get(API_CLIENT_TAG)
                if client and plan.get("name") == f"{self._names.api_name}-{client}":
                    found[client] = plan
        return found

    def plan_id(self, client: str) -> str:
        plans = self.plans()
        if client not in plans:
            known = ", ".join(sorted(plans)) or "none"
            raise Refused(
                f"unknown client {client!r}: the stack's clients are {known} "
                "(add it to API_CLIENTS and deploy)"
            )
        return str(plans[client]["id"])

    def keys(self, client: str | None = None) -> list[dict[str, str]]:
        """The key table's items (of ``client``), oldest first."""
        items = []
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._names.key_table):
            for item in page.get("Items", []):
                record = {name: value["S"] for name, value in item.items() if "S" in value}
                if client is None or record.get("client") == client:
                    items.append(record)
        return sorted(items, key=lambda r: (r.get("created_at", ""), r["key_id"]))

    def merchants(self) -> dict[str, list[str]]:
        """Merchant id -> the clients it names."""
        merchants: dict[str, list[str]] = {}
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._names.merchant_table, ProjectionExpression="merchant_id, clients"
        )
        for page in pages:
            for item in page.get("Items", []):
                clients = item.get("clients", {})
                names = clients.get("SS") or [v["S"] for v in clients.get("L", []) if "S" in v]
                merchants[item["merchant_id"]["S"]] = sorted(names)
        return merchants

    def describe(self) -> list[dict[str, Any]]:
        """Every client: plan, limits, keys (ids and states, never values) and bound merchants."""
        merchants = self.merchants()
        keys = self.keys()
        described = []
        for client, plan in sorted(self.plans().items()):
            throttle, quota = plan.get("throttle") or {}, plan.get("quota") or {}
            described.append(
                {
                    "client": client,
                    "usage_plan_id": plan["id"],
                    "rate_limit": throttle.get("rateLimit"),
                    "burst_limit": throttle.get("burstLimit"),
                    "quota": f"{quota.get('limit')}/{quota.get('period')}" if quota else None,
                    "keys": [
                        {k: v for k, v in key.items() if k != "client"}
                        for key in keys
                        if key.get("client") == client
                    ],
                    "merchants": sorted(m for m, names in merchants.items() if client in names),
                }
            )
        return described

    # --- keys -----------------------------------------------------------------------------------------

    def _live(self, client: str) -> list[dict[str, str]]:
        return [k for k in self.keys(client) if k.get("state") != KeyState.REVOKED]

    def add(self, client: str, value: str | None = None) -> NewKey:
        """The first key of ``client`` (``value``: a chosen one, for the local runtime)."""
        plan_id = self.plan_id(client)
        if live := self._live(client):
            ids = ", ".join(k["key_id"] for k in live)
            raise Refused(f"client {client!r} has a key already ({ids}): rotate or revoke it")
        return self._create_key(client, plan_id, value)

    def rotate(self, client: str, grace: timedelta) -> NewKey:
        """A second key for ``client``; its current key is retiring: both work until finish-rotation."""
        plan_id = self.plan_id(client)
        live = self._live(client)
        if len(live) != 1 or live[0].get("state") != KeyState.ACTIVE:
            states = ", ".join(f"{k['key_id']} {k.get('state')}" for k in live) or "no key"
            raise Refused(f"a rotation starts from one active key; {client!r} has: {states}")
        (current,) = live
        new = self._create_key(client, plan_id, None)
        try:
            self._dynamodb.update_item(
                TableName=self._names.key_table,
                Key={"key_id": {"S": current["key_id"]}},
                UpdateExpression="SET #state = :retiring, retire_after = :after",
                ConditionExpression="#state = :active",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":retiring": {"S": KeyState.RETIRING},
                    ":active": {"S": KeyState.ACTIVE},
                    ":after": {"S": _iso(self._clock() + grace)},
                },
            )
        except ClientError:  # the current key changed meanwhile: withdraw the new one
            self._revoke({"key_id": new.key_id}, plan_id)
            raise
        return new

    def finish_rotation(self, client: str, *, force: bool = False) -> list[str]:
        """Revoke ``client``'s retiring keys once their grace period is over (``force``: now)."""
        plan_id = self.plan_id(client)
        retiring = [k for k in self.keys(client) if k.get("state") == KeyState.RETIRING]
        if not retiring:
            raise Refused(f"client {client!r} has no rotation in progress")
        now = _iso(self._clock())
        early = [k for k in retiring if k.get("retire_after", "") > now]
        if early and not force:
            until = max(k["retire_after"] for k in early)
            raise Refused(
                f"the grace period of {client!r}'s old key runs until {until}: finish then, or --force "
                "once the client has switched"
            )
        for key in retiring:
            self._revoke(key, plan_id)
        return [k["key_id"] for k in retiring]

    def revoke(self, client: str, key_id: str | None = None) -> list[str]:
        """Delete ``client``'s keys (or the one ``key_id``) from API Gateway now."""
        plan_id = self.plan_id(client)
        live = [k for k in self._live(client) if key_id is None or k["key_id"] == key_id]
        if not live:
            raise Refused(f"client {client!r} has no live key" + (f" {key_id}" if key_id else ""))
        for key in live:
            self._revoke(key, plan_id)
        return [k["key_id"] for k in live]

    def adopt(self) -> list[str]:
        """Record the keys already in the clients' usage plans (created before this command existed)."""
        known = {k["key_id"] for k in self.keys()}
        adopted = []
        for client, plan in self.plans().items():
            pages = self._apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan["id"])
            for page in pages:
                for key in page.get("items", []):
                    if key["id"] not in known:
                        self._record(client, key["id"])
                        adopted.append(key["id"])
        return adopted

    def _create_key(self, client: str, plan_id: str, value: str | None) -> NewKey:
        """Create the key, record it, then add it to the plan (only then can it call); undone on failure."""
        stamp = self._clock().strftime("%Y%m%dT%H%M%SZ")
        request: dict[str, Any] = {
            "name": f"{self._names.api_name}-{client}-{stamp}",
            "description": f"API key of the client {client} (python -m tools.clients)",
            "enabled": True,
            "tags": {API_CLIENT_TAG: client},
        }
        if value is not None:
            request["value"] = value
        created = self._apigateway.create_api_key(**request)
        key = NewKey(client, created["id"], created["value"])
        try:
            self._record(client, key.key_id)
            self._apigateway.create_usage_plan_key(usagePlanId=plan_id, keyId=key.key_id, keyType="API_KEY")
        except Exception:
            self._apigateway.delete_api_key(apiKey=key.key_id)
            self._delete_record(key.key_id)
            raise
        return key

    def _record(self, client: str, key_id: str) -> None:
        self._dynamodb.put_item(
            TableName=self._names.key_table,
            Item={
                "key_id": {"S": key_id},
                "client": {"S": client},
                "state": {"S": KeyState.ACTIVE},
                "created_at": {"S": _iso(self._clock())},
            },
            ConditionExpression="attribute_not_exists(key_id)",
        )

    def _delete_record(self, key_id: str) -> None:
        self._dynamodb.delete_item(TableName=self._names.key_table, Key={"key_id": {"S": key_id}})

    def _revoke(self, key: dict[str, str], plan_id: str) -> None:
        """Out of the plan and deleted (API Gateway refuses it from then on), then recorded as revoked."""
        for call, kwargs in (
            (self._apigateway.delete_usage_plan_key, {"usagePlanId": plan_id, "keyId": key["key_id"]}),
            (self._apigateway.delete_api_key, {"apiKey": key["key_id"]}),
        ):
            try:
                call(**kwargs)
            except ClientError as exc:
                if _code(exc) != "NotFoundException":
                    raise
        self._dynamodb.update_item(
            TableName=self._names.key_table,
            Key={"key_id": {"S": key["key_id"]}},
            UpdateExpression="SET #state = :revoked, revoked_at = :now REMOVE retire_after",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":revoked": {"S": KeyState.REVOKED},
                ":now": {"S": _iso(self._clock())},
            },
        )

    # --- merchants ------------------------------------------------------------------------------------

    def bind(self, client: str, merchant_id: str) -> None:
        """The merchant admits ``client`` (a known client; an existing merchant with a set of clients)."""
        self.plan_id(client)
        try:
            self._dynamodb.update_item(
                TableName=self._names.merchant_table,
                Key={"merchant_id": {"S": merchant_id}},
                UpdateExpression="ADD clients :client",
                ConditionExpression="attribute_exists(merchant_id) AND "
                "(attribute_not_exists(clients) OR attribute_type(clients, :string_set))",
                ExpressionAttributeValues={":client": {"SS": [client]}, ":string_set": {"S": "SS"}},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            raise Refused(self._why_not(merchant_id, "bind")) from None

    def unbind(self, client: str, merchant_id: str) -> None:
        """The merchant no longer admits ``client``; never its last one (a merchant naming no client
        admits every client unless REQUIRE_MERCHANT_CLIENTS is set)."""
        try:
            self._dynamodb.update_item(
                TableName=self._names.merchant_table,
                Key={"merchant_id": {"S": merchant_id}},
                UpdateExpression="DELETE clients :client",
                ConditionExpression="attribute_type(clients, :string_set) AND contains(clients, :name) "
                "AND size(clients) > :one",
                ExpressionAttributeValues={
                    ":client": {"SS": [client]},
                    ":name": {"S": client},
                    ":string_set": {"S": "SS"},
                    ":one": {"N": "1"},
                },
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            bound = self.merchants().get(merchant_id)
            if bound == [client]:
                raise Refused(
                    f"{client!r} is the last client of {merchant_id!r}: a merchant naming no client admits "
                    "every client; bind another one first, or set the merchant inactive"
                ) from None
            if bound is not None and client not in bound:
                raise Refused(f"merchant {merchant_id!r} is not bound to {client!r}") from None
            raise Refused(self._why_not(merchant_id, "unbind")) from None

    def _why_not(self, merchant_id: str, action: str) -> str:
        item = self._dynamodb.get_item(
            TableName=self._names.merchant_table, Key={"merchant_id": {"S": merchant_id}}
        ).get("Item")
        if item is None:
            return f"unknown merchant {merchant_id!r}"
        return f"cannot {action}: merchant {merchant_id!r} keeps its clients as a list, not a string set (SS)"


# --- the command ------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.clients", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="make local's AWS")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="clients, plans, keys and merchants (JSON)")
    for name in ("add", "finish-rotation", "revoke", "rotate"):
        command = commands.add_parser(name)
        command.add_argument("client")
        if name == "rotate":
            command.add_argument("--grace-hours", type=float, default=DEFAULT_GRACE_HOURS)
        if name == "finish-rotation":
            command.add_argument("--force", action="store_true", help="before the grace period ends")
        if name == "revoke":
            command.add_argument("--key-id")
    for name in ("bind", "unbind"):
        command = commands.add_parser(name)
        command.add_argument("client")
        command.add_argument("merchant_id")
    commands.add_parser("adopt", help="record the keys already in the clients' usage plans")
    return parser


def _lifecycle(endpoint_url: str | None) -> ClientLifecycle:
    import boto3

    names = Names.of_settings()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-2"
    extra = {"endpoint_url": endpoint_url} if endpoint_url else {}
    if endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        extra |= {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return ClientLifecycle(
        boto3.client("apigateway", region_name=region, **extra),
        boto3.client("dynamodb", region_name=region, **extra),
        names,
    )


def run(args: argparse.Namespace, lifecycle: ClientLifecycle, out: Any, err: Any) -> None:
    def said(text: str) -> None:
        print(text, file=err)

    def issued(key: NewKey, what: str) -> None:
        said(f"{what}: key {key.key_id} of {key.client} (its value, below, is shown this once)")
        print(key.value, file=out)

    command = args.command
    if command == "list":
        print(json.dumps(lifecycle.describe(), indent=2), file=out)
    elif command == "add":
        issued(lifecycle.add(args.client), "added")
    elif command == "rotate":
        issued(lifecycle.rotate(args.client, timedelta(hours=args.grace_hours)), "rotating")
        said(f"the old key works for {args.grace_hours:g} more hours; then: finish-rotation {args.client}")
    elif command == "finish-rotation":
        said(f"revoked {', '.join(lifecycle.finish_rotation(args.client, force=args.force))}")
    elif command == "revoke":
        said(f"revoked {', '.join(lifecycle.revoke(args.client, args.key_id))}")
    elif command == "bind":
        lifecycle.bind(args.client, args.merchant_id)
        said(f"{args.merchant_id} admits {args.client} (within MERCHANT_CACHE_TTL_SECONDS)")
    elif command == "unbind":
        lifecycle.unbind(args.client, args.merchant_id)
        said(f"{args.merchant_id} no longer admits {args.client} (within MERCHANT_CACHE_TTL_SECONDS)")
    elif command == "adopt":
        said(f"recorded {', '.join(lifecycle.adopt()) or 'no new key'}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args, _lifecycle(args.endpoint_url), sys.stdout, sys.stderr)
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    except ClientError as exc:
        print(f"AWS refused the call: {_code(exc)}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
