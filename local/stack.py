"""Read the synthesized ``cdk.tf.json`` of the transaction stack into what the local runtime needs.

One job: turn Terraform JSON into plain specs (tables, queues, topics, functions, event source
mappings, pipes, API routes, usage plan). Nothing here is typed twice: names, keys, attributes, handler
strings, environment variables, batch sizes and limits all come from the synthesized stack;
``local.expressions`` resolves the references between them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from card_transactions.settings.system import API_CLIENT_TAG
from local.expressions import Ref, as_ref


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection_type: str
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    hash_key: str
    range_key: str | None
    attributes: Mapping[str, str]
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None
    stream_view_type: str | None = None  # the change stream, when enabled


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout_seconds: int
    message_retention_seconds: int
    receive_wait_time_seconds: int
    delay_seconds: int
    redrive_policy: str | None  # raw, may hold references to other queues


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]  # raw, may hold references
    reserved_concurrency: int | None = None  # Lambda throttles invocations beyond it


@dataclass(frozen=True)
class MappingSpec:
    logical_id: str
    queue: str  # logical id of the source queue
    function: str  # logical id of the target function
    batch_size: int
    batching_window_seconds: int
    maximum_concurrency: int | None
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class PipeSpec:
    """An EventBridge pipe from a table's change stream to an event bus: filters, template, the events'
    source and detail type, retries, DLQ."""

    logical_id: str
    name: str
    table: str  # logical id of the source table (its stream)
    bus: str  # logical id of the target event bus
    filters: tuple[str, ...]
    input_template: str | None
    batch_size: int
    maximum_retry_attempts: int
    dead_letter_queue: str | None  # logical id
    event_source: str = ""
    detail_type: str = ""


TARGET_KINDS = ("aws_sns_topic", "aws_sqs_queue")  # what a rule's target may be locally


@dataclass(frozen=True)
class EventTargetSpec:
    """A rule's target: a topic or a queue, what it is sent (the input transformer, the input path, or
    the whole event), the retry policy and the DLQ."""

    logical_id: str
    topic: str | None  # logical id of the target topic, or None when the target is a queue
    queue: str | None  # logical id of the target queue, or None when the target is a topic
    input_paths: Mapping[str, str]
    input_template: str | None
    maximum_retry_attempts: int
    maximum_event_age_seconds: int
    dead_letter_queue: str | None  # logical id
    input_path: str | None = None  # JSONPath of the part of the event sent (no input transformer)


@dataclass(frozen=True)
class EventRuleSpec:
    """An EventBridge rule of a bus of the stack, with its targets."""

    logical_id: str
    name: str
    bus: str  # logical id of the event bus
    pattern: str
    enabled: bool
    targets: tuple[EventTargetSpec, ...]


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge Scheduler schedule invoking a function of the stack."""

    logical_id: str
    name: str
    function: str  # logical id of the target function
    expression: str
    enabled: bool


@dataclass(frozen=True)
class RouteSpec:
    path: str  # resource path, e.g. /transaction/{transaction_id}
    method: str
    function: str  # logical id of the proxied function
    api_key_required: bool
    body_schema: Mapping[str, Any] | None  # JSON Schema of the body (the method's request model)
    required_path_parameters: tuple[str, ...] = ()
    validates_body: bool = False  # the method's request validator checks the body against the model


@dataclass(frozen=True)
class UsagePlanSpec:
    rate_limit: float
    burst_limit: int
    quota_limit: int | None
    quota_period: str | None


@dataclass(frozen=True)
class ClientSpec:
    """An API client of the stack: its usage plan (its keys are created by ``tools.clients``)."""

    name: str
    plan_logical_id: str
    plan_name: str
    usage_plan: UsagePlanSpec


@dataclass(frozen=True)
class ApiSpec:
    name: str
    stage: str
    routes: tuple[RouteSpec, ...]
    clients: tuple[ClientSpec, ...]


@dataclass(frozen=True)
class StackSpec:
    region: str
    tables: tuple[TableSpec, ...]
    queues: tuple[QueueSpec, ...]
    topics: tuple[TopicSpec, ...]
    functions: tuple[FunctionSpec, ...]
    mappings: tuple[MappingSpec, ...]
    api: ApiSpec | None
    doc: Mapping[str, Any] = field(repr=False, default_factory=dict)
    schedules: tuple[ScheduleSpec, ...] = ()
    pipes: tuple[PipeSpec, ...] = ()
    rules: tuple[EventRuleSpec, ...] = ()

    def function(self, logical_id: str) -> FunctionSpec:
        return next(f for f in self.functions if f.logical_id == logical_id)

    def queue(self, logical_id: str) -> QueueSpec:
        return next(q for q in self.queues if q.logical_id == logical_id)

    def table(self, logical_id: str) -> TableSpec:
        return next(t for t in self.tables if t.logical_id == logical_id)

    def table_named(self, name: str) -> TableSpec:
        return next(t for t in self.tables if t.name == name)


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------


def load_stack(path: Path) -> StackSpec:
    return parse_stack(json.loads(Path(path).read_text(encoding="utf-8")))


def _resources(doc: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return doc.get("resource", {}).get(kind, {})


def _single(value: Any) -> dict[str, Any]:
    """Terraform JSON blocks may be an object or a one-element list."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value or {}


def _required_ref(value: Any, kind: str, what: str) -> Ref:
    ref = as_ref(value)
    if ref is None or ref.kind != kind:
        raise ValueError(f"{what} must reference a {kind}, got {value!r}")
    return ref


def parse_stack(doc: Mapping[str, Any]) -> StackSpec:
    provider = _single(doc.get("provider", {}).get("aws", {}))
    region = provider.get("region")
    if not isinstance(region, str) or "${" in region:
        raise ValueError(f"the aws provider needs a literal region, got {region!r}")
    return StackSpec(
        region=region,
        tables=tuple(_table(k, v) for k, v in _resources(doc, "aws_dynamodb_table").items()),
        queues=tuple(_queue(k, v) for k, v in _resources(doc, "aws_sqs_queue").items()),
        topics=tuple(TopicSpec(k, v["name"]) for k, v in _resources(doc, "aws_sns_topic").items()),
        functions=tuple(_function(k, v) for k, v in _resources(doc, "aws_lambda_function").items()),
        mappings=tuple(
            _mapping(doc, k, v) for k, v in _resources(doc, "aws_lambda_event_source_mapping").items()
        ),
        api=_api(doc),
        doc=doc,
        schedules=tuple(_schedule(doc, k, v) for k, v in _resources(doc, "aws_scheduler_schedule").items()),
        pipes=tuple(_pipe(k, v) for k, v in _resources(doc, "aws_pipes_pipe").items()),
        rules=tuple(_rule(doc, k, v) for k, v in _resources(doc, "aws_cloudwatch_event_rule").items()),
    )


def _pipe(logical_id: str, body: Mapping[str, Any]) -> PipeSpec:
    source = _required_ref(body["source"], "aws_dynamodb_table", f"{logical_id}.source")
    target = _required_ref(body["target"], "aws_cloudwatch_event_bus", f"{logical_id}.target")
    parameters = _single(body.get("source_parameters"))
    stream = _single(parameters.get("dynamodb_stream_parameters"))
    dead_letter = _single(stream.get("dead_letter_config")).get("arn")
    dlq = _required_ref(dead_letter, "aws_sqs_queue", f"{logical_id} DLQ") if dead_letter else None
    criteria = _single(parameters.get("filter_criteria"))
    target_parameters = _single(body.get("target_parameters"))
    bus_parameters = _single(target_parameters.get("eventbridge_event_bus_parameters"))
    return PipeSpec(
        logical_id=logical_id,
        name=body.get("name", logical_id),
        table=source.logical_id,
        bus=target.logical_id,
        filters=tuple(f["pattern"] for f in criteria.get("filter") or ()),
        input_template=target_parameters.get("input_template"),
        batch_size=int(stream.get("batch_size", 1)),
        maximum_retry_attempts=int(stream.get("maximum_retry_attempts", -1)),
        dead_letter_queue=dlq.logical_id if dlq else None,
        event_source=bus_parameters.get("source", f"Pipe {body.get('name', logical_id)}"),
        detail_type=bus_parameters.get("detail_type", "Event from aws:dynamodb.stream"),
    )


def _rule(doc: Mapping[str, Any], logical_id: str, body: Mapping[str, Any]) -> EventRuleSpec:
    bus_name = body.get("event_bus_name")
    bus = _required_ref(bus_name, "aws_cloudwatch_event_bus", f"{logical_id}.event_bus_name")
    targets = tuple(
        _event_target(k, v)
        for k, v in _resources(doc, "aws_cloudwatch_event_target").items()
        if (ref := as_ref(v.get("rule"))) is not None and ref.logical_id == logical_id
    )
    return EventRuleSpec(
        logical_id=logical_id,
        name=body.get("name", logical_id),
        bus=bus.logical_id,
        pattern=body["event_pattern"],
        enabled=body.get("state", "ENABLED") == "ENABLED",
        targets=targets,
    )


def _event_target(logical_id: str, body: Mapping[str, Any]) -> EventTargetSpec:
    destination = as_ref(body["arn"])
    if destination is None or destination.kind not in TARGET_KINDS:
        kinds = " or ".join(TARGET_KINDS)
        raise ValueError(f"{logical_id}.arn must reference an {kinds}, got {body['arn']!r}")
    inputs = [name for name in ("input", "input_path", "input_transformer") if body.get(name)]
    if len(inputs) > 1 or "input" in inputs:
        raise ValueError(
            f"{logical_id} sets {', '.join(inputs)}: the local runtime runs one input_path or one "
            "input_transformer at most"
        )
    transformer = _single(body.get("input_transformer"))
    retry = _single(body.get("retry_policy"))
    dead_letter = _single(body.get("dead_letter_config")).get("arn")
    dlq = _required_ref(dead_letter, "aws_sqs_queue", f"{logical_id} DLQ") if dead_letter else None
    return EventTargetSpec(
        logical_id=logical_id,
        topic=destination.logical_id if destination.kind == "aws_sns_topic" else None,
        queue=destination.logical_id if destination.kind == "aws_sqs_queue" else None,
        input_paths=dict(transformer.get("input_paths") or {}),
        input_template=transformer.get("input_template"),
        maximum_retry_attempts=int(retry.get("maximum_retry_attempts", 185)),
        maximum_event_age_seconds=int(retry.get("maximum_event_age_in_seconds", 86400)),
        dead_letter_queue=dlq.logical_id if dlq else None,
        input_path=body.get("input_path"),
    )


def _schedule(doc: Mapping[str, Any], logical_id: str, body: Mapping[str, Any]) -> ScheduleSpec:
    target = _single(body["target"])
    return ScheduleSpec(
        logical_id=logical_id,
        name=body.get("name", logical_id),
        function=_function_of(doc, target["arn"], f"{logical_id}.target.arn"),
        expression=body["schedule_expression"],
        enabled=body.get("state", "ENABLED") == "ENABLED",
    )


def _table(logical_id: str, body: Mapping[str, Any]) -> TableSpec:
    indexes = tuple(
        IndexSpec(
            name=gsi["name"],
            hash_key=gsi["hash_key"],
            range_key=gsi.get("range_key"),
            projection_type=gsi.get("projection_type", "ALL"),
            non_key_attributes=tuple(gsi.get("non_key_attributes") or ()),
        )
        for gsi in body.get("global_secondary_index") or []
    )
    ttl = _single(body.get("ttl"))
    return TableSpec(
        logical_id=logical_id,
        name=body["name"],
        hash_key=body["hash_key"],
        range_key=body.get("range_key"),
        attributes={a["name"]: a["type"] for a in body.get("attribute", [])},
        indexes=indexes,
        ttl_attribute=ttl.get("attribute_name") if ttl.get("enabled") else None,
        stream_view_type=body.get("stream_view_type") if body.get("stream_enabled") else None,
    )


def _queue(logical_id: str, body: Mapping[str, Any]) -> QueueSpec:
    return QueueSpec(
        logical_id=logical_id,
        name=body["name"],
        visibility_timeout_seconds=int(body.get("visibility_timeout_seconds", 30)),
        message_retention_seconds=int(body.get("message_retention_seconds", 345_600)),
        receive_wait_time_seconds=int(body.get("receive_wait_time_seconds", 0)),
        delay_seconds=int(body.get("delay_seconds", 0)),
        redrive_policy=body.get("redrive_policy"),
    )


def _function(logical_id: str, body: Mapping[str, Any]) -> FunctionSpec:
    environment = _single(body.get("environment")).get("variables") or {}
    return FunctionSpec(
        logical_id=logical_id,
        function_name=body["function_name"],
        handler=body["handler"],
        timeout_seconds=int(body.get("timeout", 3)),
        memory_mb=int(body.get("memory_size", 128)),
        environment=dict(environment),
        reserved_concurrency=_reserved(body.get("reserved_concurrent_executions")),
    )


def _reserved(value: Any) -> int | None:
    """``reserved_concurrent_executions``: unset or -1 is the account's unreserved pool (no cap here)."""
    return int(value) if value is not None and int(value) >= 0 else None


def _function_of(doc: Mapping[str, Any], value: Any, what: str) -> str:
    """Logical id of the function a value (function ARN/name/invoke ARN, or an alias of it) points at."""
    ref = as_ref(value)
    if ref is not None and ref.kind == "aws_lambda_function":
        return ref.logical_id
    if ref is not None and ref.kind == "aws_lambda_alias":
        alias = _resources(doc, "aws_lambda_alias")[ref.logical_id]
        return _function_of(doc, alias["function_name"], f"alias {ref.logical_id}")
    functions = _resources(doc, "aws_lambda_function")
    for logical_id, body in functions.items():
        if value == body.get("function_name"):
            return logical_id
    raise ValueError(f"{what} must point at a function of the stack, got {value!r}")


def _mapping(doc: Mapping[str, Any], logical_id: str, body: Mapping[str, Any]) -> MappingSpec:
    source = _required_ref(body["event_source_arn"], "aws_sqs_queue", f"{logical_id}.event_source_arn")
    scaling = _single(body.get("scaling_config"))
    concurrency = scaling.get("maximum_concurrency")
    return MappingSpec(
        logical_id=logical_id,
        queue=source.logical_id,
        function=_function_of(doc, body["function_name"], f"{logical_id}.function_name"),
        batch_size=int(body.get("batch_size", 10)),
        batching_window_seconds=int(body.get("maximum_batching_window_in_seconds", 0)),
        maximum_concurrency=int(concurrency) if concurrency is not None else None,
        report_batch_item_failures="ReportBatchItemFailures" in (body.get("function_response_types") or []),
        enabled=body.get("enabled", True) is not False,
    )


def _api(doc: Mapping[str, Any]) -> ApiSpec | None:
    apis = _resources(doc, "aws_api_gateway_rest_api")
    if not apis:
        return None
    if len(apis) != 1:
        raise ValueError(f"the local runtime serves one REST API, the stack has {len(apis)}")
    stages = _resources(doc, "aws_api_gateway_stage")
    if len(stages) != 1:
        raise ValueError(f"the local runtime serves one stage, the stack has {len(stages)}")
    stage = next(iter(stages.values()))["stage_name"]
    paths = _resource_paths(doc)
    models = _resources(doc, "aws_api_gateway_model")
    validators = _resources(doc, "aws_api_gateway_request_validator")
    integrations = {
        _required_ref(
            body["http_method"], "aws_api_gateway_method", "integration.http_method"
        ).logical_id: body
        for body in _resources(doc, "aws_api_gateway_integration").values()
    }
    routes = []
    for method_id, method in _resources(doc, "aws_api_gateway_method").items():
        resource = _required_ref(
            method["resource_id"], "aws_api_gateway_resource", f"{method_id}.resource_id"
        )
        integration = integrations.get(method_id)
        if integration is None or integration.get("type") != "AWS_PROXY":
            raise ValueError(f"method {method_id} needs an AWS_PROXY integration to run locally")
        validator = {}
        if method.get("request_validator_id"):
            ref = _required_ref(
                method["request_validator_id"], "aws_api_gateway_request_validator", f"{method_id} validator"
            )
            validator = validators[ref.logical_id]
        schema = None
        model_value = (method.get("request_models") or {}).get("application/json")
        if model_value:
            model_ref = _required_ref(model_value, "aws_api_gateway_model", f"{method_id} model")
            schema = json.loads(models[model_ref.logical_id]["schema"])
        required = ()
        if validator.get("validate_request_parameters"):
            required = tuple(
                sorted(
                    name.removeprefix("method.request.path.")
                    for name, needed in (method.get("request_parameters") or {}).items()
                    if needed and name.startswith("method.request.path.")
                )
            )
        routes.append(
            RouteSpec(
                path=paths[resource.logical_id],
                method=method["http_method"],
                function=_function_of(doc, integration["uri"], f"{method_id} integration"),
                api_key_required=bool(method.get("api_key_required")),
                body_schema=schema,
                required_path_parameters=required,
                validates_body=schema is not None and bool(validator.get("validate_request_body")),
            )
        )
    return ApiSpec(
        name=next(iter(apis.values()))["name"],
        stage=stage,
        routes=tuple(sorted(routes, key=lambda r: (r.path, r.method))),
        clients=_clients(doc),
    )


def _usage_plan(body: Mapping[str, Any]) -> UsagePlanSpec:
    throttle = _single(body.get("throttle_settings"))
    quota = _single(body.get("quota_settings"))
    return UsagePlanSpec(
        rate_limit=float(throttle.get("rate_limit", 10_000)),
        burst_limit=int(throttle.get("burst_limit", 5_000)),
        quota_limit=int(quota["limit"]) if quota.get("limit") else None,
        quota_period=quota.get("period"),
    )


def _clients(doc: Mapping[str, Any]) -> tuple[ClientSpec, ...]:
    """Every usage plan of the stack tagged with its client's name (``ApiClient``)."""
    return tuple(
        ClientSpec(
            name=body["tags"][API_CLIENT_TAG],
            plan_logical_id=logical_id,
            plan_name=body["name"],
            usage_plan=_usage_plan(body),
        )
        for logical_id, body in _resources(doc, "aws_api_gateway_usage_plan").items()
        if API_CLIENT_TAG in (body.get("tags") or {})
    )


def _resource_paths(doc: Mapping[str, Any]) -> dict[str, str]:
    """``logical id -> /full/path`` of every API resource (parents are references)."""
    resources = _resources(doc, "aws_api_gateway_resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str, seen: tuple[str, ...] = ()) -> str:
        if logical_id in paths:
            return paths[logical_id]
        if logical_id in seen:
            raise ValueError(f"API resource cycle at {logical_id}")
        body = resources[logical_id]
        parent = as_ref(body["parent_id"])
        if parent is not None and parent.kind == "aws_api_gateway_resource":
            prefix = path_of(parent.logical_id, (*seen, logical_id))
        elif parent is not None and parent.attribute == "root_resource_id":
            prefix = ""
        else:
            raise ValueError(f"API resource {logical_id} has an unsupported parent {body['parent_id']!r}")
        paths[logical_id] = f"{prefix}/{body['path_part']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths
