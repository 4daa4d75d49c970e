"""What the local runtime tells its user once it is ready: the banner it prints (endpoints, resources and
commands to paste) and the ready file (``LOCAL_READY_FILE``: endpoints and resource names as JSON)."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from local.aws import Provisioned
from local.config import FaultConfig, LocalConfig
from local.event_bus import EventBus
from local.pollers import Poller
from local.schedules import LocalSchedule
from local.stack import EventTargetSpec, StackSpec
from local.stream_pipes import StreamPipe

# The README's example transaction and merchant, which the banner's commands send and store.
README_TRANSACTION = {
    "transaction_id": "txn_test_001",
    "merchant_id": "merchant_001",
    "amount": 1500.00,
    "currency": "USD",
}
README_MERCHANT = (
    '{"merchant_id": {"S": "merchant_001"}, "name": {"S": "Test Merchant"}, '
    '"active": {"BOOL": true}, "max_transaction_amount": {"N": "10000"}}'
)


class Running(Protocol):
    """What the banner reads of a started runtime (``local.runtime.LocalRuntime``)."""

    config: LocalConfig
    stack: StackSpec
    provisioned: Provisioned | None
    client_keys: dict[str, str]
    pollers: list[Poller]
    pipes: list[StreamPipe]
    buses: dict[str, EventBus]
    schedules: list[LocalSchedule]
    seeded: list[dict[str, Any]]

    def describe(self) -> dict[str, Any]: ...

    def function_setting(self, variable: str) -> str | None: ...


def write_ready_file(path: str, description: Mapping[str, Any]) -> None:
    """``description`` as JSON at ``path``, whole or not at all (written beside it, then moved)."""
    target = Path(path)
    scratch = target.with_suffix(target.suffix + ".tmp")
    scratch.write_text(json.dumps(description, indent=2), encoding="utf-8")
    os.replace(scratch, target)


def banner(runtime: Running) -> str:
    """The text printed once the runtime is ready."""
    provisioned = runtime.provisioned
    assert provisioned is not None, "banner() after start()"
    info = runtime.describe()
    lines = [
        *_endpoints(runtime, info),
        *_queues_and_topics(runtime.stack, provisioned),
        *_event_sources(runtime),
        *_clients_and_merchants(runtime.stack, runtime.seeded),
        *_schedules(runtime),
        *_faults(runtime.config.faults),
        *_try_it(runtime, info, provisioned),
    ]
    return "\n".join(lines)


def _endpoints(runtime: Running, info: Mapping[str, Any]) -> list[str]:
    config = runtime.config
    generated = config.api_key_generated and not config.api_clients
    return [
        "",
        "Local transaction-processing runtime: real handlers, moto for AWS; no AWS account, no Docker.",
        "",
        f"  HTTP API    {info['api_url']}   (POST /transaction, GET /transaction/{{transaction_id}})",
        f"  OpenAPI     {info['api_url']}/openapi.json",
        *(f"  API key     {key} (client {name})" for name, key in runtime.client_keys.items()),
        *(["  (keys generated: LOCAL_API_KEY or LOCAL_API_CLIENTS choose them)"] if generated else []),
        f"  AWS         {info['aws_endpoint']}   (moto; region {runtime.stack.region}; any credentials)",
        f"  tables      {', '.join(info['tables'])}",
    ]


def _queues_and_topics(stack: StackSpec, provisioned: Provisioned) -> list[str]:
    lines = []
    for queue in stack.queues:
        redrive = ""
        if queue.redrive_policy:
            policy = json.loads(provisioned.resolver.resolve(queue.redrive_policy))
            target = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
            redrive = f" -> {target} after {policy['maxReceiveCount']} receives"
        lines.append(f"  queue       {queue.name}{redrive}")
    lines += [
        f"  topic       {topic.name} -> printed here as [alert] and queued on {provisioned.inbox_name}"
        for topic in stack.topics
    ]
    return lines


def _event_sources(runtime: Running) -> list[str]:
    """The event source mappings, stream pipes and event rules between the resources and the functions."""
    config = runtime.config
    lines = [
        f"  mapping     {poller.queue_name} -> {poller.function.name} (batch {poller.mapping.batch_size}, "
        f"window {poller.mapping.batching_window_seconds} s, a failed record returns after "
        f"{config.retry_visibility_seconds} s)"
        for poller in runtime.pollers
    ]
    lines += [
        f"  pipe        {pipe.spec.name}: stream of {runtime.stack.table(pipe.spec.table).name} -> "
        f"{len(pipe.spec.filters)} filter(s) -> bus {runtime.buses[pipe.spec.bus].name}"
        for pipe in runtime.pipes
    ]
    lines += [
        f"  rule        {bus.name}/{rule.name}: pattern -> {_target(runtime.stack, target)}"
        for bus in runtime.buses.values()
        for rule in bus.rules
        for target in rule.targets
    ]
    return lines


def _target(stack: StackSpec, target: EventTargetSpec) -> str:
    """What a rule's target is sent, and where: ``input path $.x -> queue q``."""
    if target.input_template:
        sent = "input transformer"
    elif target.input_path:
        sent = f"input path {target.input_path}"
    else:
        sent = "the event"
    if target.queue:
        return f"{sent} -> queue {stack.queue(target.queue).name}"
    return f"{sent} -> topic {next(t.name for t in stack.topics if t.logical_id == target.topic)}"


def _schedules(runtime: Running) -> list[str]:
    return [
        f"  schedule    {schedule.spec.name} -> {schedule.function.name} every "
        f"{runtime.config.schedule_seconds:g} s (deployed: {schedule.spec.expression})"
        for schedule in runtime.schedules
    ]


def _clients_and_merchants(stack: StackSpec, seeded: list[dict[str, Any]]) -> list[str]:
    lines = []
    for api_client in stack.api.clients if stack.api else ():
        plan = api_client.usage_plan
        lines.append(
            f"  usage plan  {api_client.name}: {plan.rate_limit:g} req/s, burst {plan.burst_limit}, "
            f"quota {plan.quota_limit}/{(plan.quota_period or 'DAY').lower()}"
        )
    if seeded:
        merchants = ", ".join(
            f"{m['merchant_id']} ({m['name']}{'' if m['active'] else ', inactive'})" for m in seeded
        )
        lines.append(f"  merchants   {merchants}")
    return lines


def _faults(faults: FaultConfig) -> list[str]:
    lines = []
    if faults.rate > 0:
        services = ", ".join(faults.services)
        lines.append(f"  FAULTS      {faults.rate:.0%} of {services} calls fail (seed {faults.seed})")
    lines += [
        f"  OUTAGE      {', '.join(window.services)} calls fail from {window.start:g} s to "
        f"{window.start + window.duration:g} s after ready"
        for window in faults.outages
    ]
    return lines


def _try_it(runtime: Running, info: Mapping[str, Any], provisioned: Provisioned) -> list[str]:
    """The README's quick start against this runtime: store a merchant, post and read a transaction, read
    the stored record and the alerts."""
    merchant_table = runtime.function_setting("MERCHANT_TABLE_NAME") or "merchant-config-dev"
    transaction_table = runtime.function_setting("TRANSACTION_TABLE_NAME") or "processed-transactions-dev"
    aws = f"aws --endpoint-url {info['aws_endpoint']}"
    api, key, region = info["api_url"], info["api_key"], runtime.stack.region
    body = json.dumps(README_TRANSACTION).replace("1500.0", "1500.00")
    return [
        "",
        "Try it (in another terminal):",
        f"  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={region}",
        f"  {aws} dynamodb put-item --table-name {merchant_table} --item {shlex.quote(README_MERCHANT)}",
        f"  curl -X POST {api}/transaction -H 'x-api-key: {key}' -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)}",
        f"  curl {api}/transaction/txn_test_001 -H 'x-api-key: {key}'",
        f"  {aws} dynamodb get-item --table-name {transaction_table} --key "
        + shlex.quote('{"transaction_id": {"S": "txn_test_001"}}'),
        f"  {aws} sqs receive-message --queue-url {provisioned.inbox_url} --wait-time-seconds 5",
        "",
        "Ctrl-C stops.",
        "",
    ]
