"""Fast tests of the local runtime's pieces (no server): reference resolution, the usage plan, Lambda's
reading of partial batch responses, event shapes, fault injection and configuration."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError

from local.banner import write_ready_file
from local.config import FaultConfig, LocalConfig
from local.events import proxy_event, sqs_event
from local.expressions import Ref, Resolver, interpolations, references
from local.faults import FaultInjector
from local.pollers import Poller
from local.stack import MappingSpec, parse_stack
from local.throttle import QUOTA_EXCEEDED, THROTTLED, Quota, TokenBucket, UsagePlan, period_start

DLQ = Ref("aws_sqs_queue", "Dlq_1", "arn")


# --- resolver -------------------------------------------------------------------------------------


def test_jsonencode_redrive_policy_resolves_to_local_arns():
    resolver = Resolver({DLQ: "arn:aws:sqs:us-east-2:123456789012:dlq"})
    raw = '${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.Dlq_1.arn, "maxReceiveCount" = 3})}'
    assert json.loads(resolver.resolve(raw)) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-2:123456789012:dlq",
        "maxReceiveCount": 3,
    }


def test_embedded_and_nested_interpolations():
    resolver = Resolver({DLQ: "arn:x"})
    assert resolver.resolve("a-${aws_sqs_queue.Dlq_1.arn}-b") == "a-arn:x-b"
    assert resolver.resolve({"k": ["${aws_sqs_queue.Dlq_1.arn}", 3]}) == {"k": ["arn:x", 3]}
    nested = '${jsonencode({"a" = {"b" = [1, true, "x}"]}})}'
    assert json.loads(resolver.resolve(nested)) == {"a": {"b": [1, True, "x}"]}}
    assert [e for _, _, e in interpolations('x ${a.b.c} "${d.e.f}"')] == ["a.b.c", "d.e.f"]
    assert references({"v": ["${aws_sqs_queue.Dlq_1.arn}"]}) == {DLQ}


def test_an_unknown_reference_fails_loudly():
    with pytest.raises(ValueError, match=r"no value for \$\{aws_kms_key\.Key\.arn\}"):
        Resolver({}).resolve("${aws_kms_key.Key.arn}")


def test_parse_stack_derives_routes_and_mappings_from_references():
    schema = {"type": "object", "required": ["a"]}
    doc = {
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {
            "aws_sqs_queue": {"Q": {"name": "q-dev", "visibility_timeout_seconds": 60}},
            "aws_lambda_function": {
                "F": {"function_name": "f-dev", "handler": "handlers.x.handler", "timeout": 5},
            },
            "aws_lambda_alias": {"A": {"function_name": "${aws_lambda_function.F.function_name}"}},
            "aws_lambda_event_source_mapping": {
                "M": {
                    "event_source_arn": "${aws_sqs_queue.Q.arn}",
                    "function_name": "${aws_lambda_alias.A.arn}",
                    "batch_size": 7,
                    "maximum_batching_window_in_seconds": 2,
                    "function_response_types": ["ReportBatchItemFailures"],
                }
            },
            "aws_api_gateway_rest_api": {"R": {"name": "api"}},
            "aws_api_gateway_stage": {"S": {"stage_name": "v1"}},
            "aws_api_gateway_resource": {
                "Col": {"parent_id": "${aws_api_gateway_rest_api.R.root_resource_id}", "path_part": "items"},
                "Item": {"parent_id": "${aws_api_gateway_resource.Col.id}", "path_part": "{item_id}"},
            },
            "aws_api_gateway_model": {"Mod": {"schema": json.dumps(schema)}},
            "aws_api_gateway_request_validator": {
                "V": {"validate_request_body": True, "validate_request_parameters": True}
            },
            "aws_api_gateway_method": {
                "Post": {
                    "resource_id": "${aws_api_gateway_resource.Col.id}",
                    "http_method": "POST",
                    "api_key_required": True,
                    "request_validator_id": "${aws_api_gateway_request_validator.V.id}",
                    "request_models": {"application/json": "${aws_api_gateway_model.Mod.name}"},
                },
                "Get": {
                    "resource_id": "${aws_api_gateway_resource.Item.id}",
                    "http_method": "GET",
                    "request_validator_id": "${aws_api_gateway_request_validator.V.id}",
                    "request_parameters": {"method.request.path.item_id": True},
                },
            },
            "aws_api_gateway_integration": {
                f"{m}I": {
                    "http_method": f"${{aws_api_gateway_method.{m}.http_method}}",
                    "type": "AWS_PROXY",
                    "uri": "${aws_lambda_function.F.invoke_arn}",
                }
                for m in ("Post", "Get")
            },
        },
    }
    stack = parse_stack(doc)
    assert stack.region == "eu-west-1"
    mapping = stack.mappings[0]
    assert (mapping.queue, mapping.function, mapping.batch_size, mapping.batching_window_seconds) == (
        "Q",
        "F",
        7,
        2,
    )
    assert stack.api is not None
    post, get = stack.api.routes
    assert (get.path, get.method, get.required_path_parameters, get.body_schema) == (
        "/items/{item_id}",
        "GET",
        ("item_id",),
        None,
    )
    assert (post.path, post.api_key_required, post.body_schema, post.validates_body) == (
        "/items",
        True,
        schema,
        True,
    )
    assert stack.api.stage == "v1"


# --- usage plan -----------------------------------------------------------------------------------


def test_token_bucket_allows_the_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_quota_resets_at_the_start_of_the_period():
    moment = [datetime(2025, 3, 4, 23, 59, tzinfo=UTC)]
    quota = Quota(2, "DAY", clock=lambda: moment[0])
    assert [quota.take(), quota.take(), quota.take()] == [True, True, False]
    moment[0] = datetime(2025, 3, 5, 0, 0, tzinfo=UTC)
    assert quota.take()
    assert period_start(datetime(2025, 3, 6, 12, tzinfo=UTC), "WEEK") == datetime(2025, 3, 3, tzinfo=UTC)
    assert period_start(datetime(2025, 3, 6, 12, tzinfo=UTC), "MONTH") == datetime(2025, 3, 1, tzinfo=UTC)


def test_usage_plan_throttles_before_counting_the_quota():
    plan = UsagePlan(rate=0.001, burst=2, quota_limit=1, quota_period="DAY")
    assert [plan.admit("k"), plan.admit("k"), plan.admit("k")] == [None, QUOTA_EXCEEDED, THROTTLED]
    assert plan.admit("other") is None  # per key


# --- event source mapping -------------------------------------------------------------------------


def _poller(report: bool = True) -> Poller:
    """A poller without a queue: only its reading of responses is exercised."""
    poller = Poller.__new__(Poller)
    poller.mapping = MappingSpec("M", "Q", "F", 10, 0, None, report, True)
    return poller


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),  # unknown id: whole batch
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": "a"}, {"a", "b"}),
    ],
)
def test_partial_batch_response_is_read_like_lambda(response, failed):
    assert _poller()._failed_ids(response, {"a", "b"}) == failed


def test_without_report_batch_item_failures_a_response_is_success():
    assert _poller(report=False)._failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}) == set()


# --- events ---------------------------------------------------------------------------------------


def test_sqs_event_has_lambda_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
    }
    record = sqs_event([message], "arn:q", "us-east-2")["Records"][0]
    assert record["messageId"] == "m1" and record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["eventSourceARN"] == "arn:q"


def test_proxy_event_has_api_gateway_shape():
    event = proxy_event(
        method="GET",
        resource="/transaction/{transaction_id}",
        path="/transaction/t1",
        stage="prod",
        headers=[("x-api-key", "secret"), ("Accept", "a"), ("Accept", "b")],
        query={"q": ["1", "2"]},
        path_parameters={"transaction_id": "t1"},
        body=b"\xff",
        source_ip="127.0.0.1",
        api_key="secret",
        api_key_id="k1a2b3c4d5",
        request_id="rid",
        host="127.0.0.1:8080",
    )
    assert event["requestContext"]["path"] == "/prod/transaction/t1"
    assert event["requestContext"]["resourcePath"] == "/transaction/{transaction_id}"
    assert event["requestContext"]["identity"]["apiKeyId"] == "k1a2b3c4d5"
    assert event["requestContext"]["requestId"] == "rid"
    assert event["headers"]["Accept"] == "b" and event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["queryStringParameters"] == {"q": "2"}
    assert event["isBase64Encoded"] is True  # not UTF-8


# --- faults and config ----------------------------------------------------------------------------


def test_fault_injection_fails_selected_services_only(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    session = boto3.session.Session(region_name="us-east-2")
    injector = FaultInjector(FaultConfig(rate=1.0, services=("dynamodb",), seed=1))
    injector.install(session.events)
    dynamodb = session.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    errors = set()
    for _ in range(20):
        try:
            dynamodb.get_item(TableName="t", Key={"k": {"S": "v"}})
        except ClientError as exc:
            errors.add(exc.response["Error"]["Code"])
        except Exception as exc:  # a "lost" fault lets the call through to a closed port
            errors.add(type(exc).__name__)
    assert {"ProvisionedThroughputExceededException", "InternalServerError"} <= errors
    assert any(key.startswith("dynamodb:GetItem:") for key in injector.summary())


def test_config_validates_eagerly():
    assert LocalConfig.from_env({}).api_key_generated
    with pytest.raises(ValueError, match="LOCAL_API_KEY must be at least 20"):
        LocalConfig.from_env({"LOCAL_API_KEY": "short"})
    with pytest.raises(ValueError, match="LOCAL_FAULT_RATE must be between"):
        LocalConfig.from_env({"LOCAL_FAULT_RATE": "2"})
    with pytest.raises(ValueError, match="LOCAL_FAULT_SERVICES"):
        LocalConfig.from_env({"LOCAL_FAULT_SERVICES": "lambda"})
    assert LocalConfig.from_env({"LOCAL_FAULT_SERVICES": "SQS"}).fault_services == ("sqs",)


def test_the_mapping_works_on_more_batches_while_messages_are_waiting():
    mapping = MappingSpec("M", "Q", "F", 10, 0, 20, True, True)
    poller = Poller(
        mapping,
        SimpleNamespace(name="f"),  # type: ignore[arg-type]  # only the scaling is exercised
        None,
        queue_url="q",
        queue_arn="arn",
        queue_name="q",
        region="us-east-2",
        retry_visibility_seconds=1,
        stop=threading.Event(),
        concurrency=3,
    )
    active = []
    for backlog in (True, True, True, False, True, False, False, False):
        poller._scale(backlog)
        active.append(poller._active)
    assert active == [2, 3, 3, 2, 3, 2, 1, 1]


def test_a_failed_record_returns_after_the_retry_visibility_and_a_done_one_is_deleted():
    # GIVEN a batch of two, the function failing one of them by name
    calls: dict[str, list[object]] = {"deleted": [], "visibility": []}
    sqs = SimpleNamespace(
        delete_message_batch=lambda **kwargs: calls["deleted"].extend(kwargs["Entries"]),
        change_message_visibility_batch=lambda **kwargs: calls["visibility"].extend(kwargs["Entries"]),
    )
    function = SimpleNamespace(name="f", invoke=lambda _: {"batchItemFailures": [{"itemIdentifier": "b"}]})
    poller = Poller(
        MappingSpec("M", "Q", "F", 10, 0, None, True, True),
        function,  # type: ignore[arg-type]
        sqs,
        queue_url="q",
        queue_arn="arn",
        queue_name="q",
        region="us-east-2",
        retry_visibility_seconds=3,
        stop=threading.Event(),
    )
    # WHEN the poller delivers it
    poller._deliver([{"MessageId": m, "ReceiptHandle": f"r-{m}", "Body": "{}"} for m in ("a", "b")])
    # THEN the done record is deleted and the failed one comes back after the retry visibility
    assert calls == {
        "deleted": [{"Id": "0", "ReceiptHandle": "r-a"}],
        "visibility": [{"Id": "0", "ReceiptHandle": "r-b", "VisibilityTimeout": 3}],
    }
    assert (poller.batches, poller.succeeded, poller.failed) == (1, 1, 1)


class _OverlapMeter:
    """Counts how many calls are inside ``call`` at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inside = 0
        self.most = 0

    def call(self, seconds: float) -> None:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(seconds)
        with self._lock:
            self.inside -= 1


def test_batches_run_concurrently_but_receives_one_at_a_time():
    # GIVEN a backlog, and a mapping allowed 3 concurrent batches
    receives, invokes = _OverlapMeter(), _OverlapMeter()
    numbers = itertools.count()

    def receive_message(**_: object) -> dict[str, list[dict[str, str]]]:
        receives.call(0.01)
        return {
            "Messages": [
                {"MessageId": str(next(numbers)), "ReceiptHandle": "r", "Body": "{}"} for _ in range(10)
            ]
        }

    def invoke(_event: object) -> dict[str, list[object]]:
        invokes.call(0.05)
        return {"batchItemFailures": []}

    sqs = SimpleNamespace(
        receive_message=receive_message,
        delete_message_batch=lambda **_: None,
        change_message_visibility_batch=None,
    )
    stop = threading.Event()
    poller = Poller(
        MappingSpec("M", "Q", "F", 10, 0, 20, True, True),
        SimpleNamespace(name="f", invoke=invoke),  # type: ignore[arg-type]
        sqs,
        queue_url="q",
        queue_arn="arn",
        queue_name="q",
        region="us-east-2",
        retry_visibility_seconds=1,
        stop=stop,
        concurrency=3,
    )
    # WHEN it polls for a while
    poller.start()
    time.sleep(0.6)
    stop.set()
    poller.join(2)
    # THEN batches overlapped (the mapping scaled out), ReceiveMessage calls never did (moto's SQS races)
    assert poller.batches > 5
    assert invokes.most >= 2
    assert receives.most == 1


# --- scripted outages, local timings and schedules -------------------------------------------------


def test_outage_windows_parse_with_either_separator():
    from local.config import OutageWindow, parse_outages

    config = LocalConfig.from_env({"LOCAL_OUTAGE": " DynamoDB, sns@30+60 ; sqs@200+2.5,sns@1+1"})
    assert parse_outages(config.outage) == (
        OutageWindow(("dynamodb", "sns"), 30.0, 60.0),
        OutageWindow(("sqs",), 200.0, 2.5),
        OutageWindow(("sns",), 1.0, 1.0),
    )
    assert config.faults.enabled and config.faults.rate == 0
    assert FaultConfig.from_json(config.faults.to_json()) == config.faults
    assert not LocalConfig.from_env({}).faults.enabled


@pytest.mark.parametrize("bad", ["dynamo@1+2", "dynamodb@1", "dynamodb@-1+2", "sns@1+2;;sqs@1+2", "@1+2"])
def test_outage_grammar_is_checked_eagerly(bad):
    with pytest.raises(ValueError, match="LOCAL_OUTAGE must be windows SERVICES@START"):
        LocalConfig.from_env({"LOCAL_OUTAGE": bad})


def test_outage_fails_every_call_of_its_services_inside_its_window_only(monkeypatch):
    from local.config import OutageWindow

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    now = [1000.0]
    injector = FaultInjector(
        FaultConfig(outages=(OutageWindow(("dynamodb",), 10, 60),)), clock=lambda: now[0]
    )
    session = boto3.session.Session(region_name="us-east-2")
    injector.install(session.events)
    assert not injector.in_outage("dynamodb")  # no origin yet: the runtime is not ready
    injector.origin = 1000.0
    now[0] = 1009.9
    assert not injector.in_outage("dynamodb")
    now[0] = 1010.0
    assert injector.in_outage("dynamodb") and not injector.in_outage("sns")
    dynamodb = session.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    for _ in range(5):
        with pytest.raises(ClientError, match="InternalServerError"):
            dynamodb.get_item(TableName="t", Key={"k": {"S": "v"}})
    assert injector.summary() == {"dynamodb:GetItem:outage": 5}
    now[0] = 1070.0
    assert not injector.in_outage("dynamodb")


def test_local_timings_shorten_only_the_waits_a_function_has():
    from local.runtime import local_timings

    config = LocalConfig.from_env({"LOCAL_RECONCILE_AFTER_SECONDS": "7"})
    assert local_timings({"RECONCILE_AFTER_SECONDS": "900"}, config) == {"RECONCILE_AFTER_SECONDS": "7"}
    assert local_timings({"TRANSACTION_TABLE_NAME": "t"}, config) == {}


def test_schedules_are_read_from_the_stack():
    doc = {
        "provider": {"aws": [{"region": "us-east-2"}]},
        "resource": {
            "aws_lambda_function": {"R": {"function_name": "reconciler", "handler": "h.handler"}},
            "aws_scheduler_schedule": {
                "S": {
                    "name": "reconciler-dev",
                    "schedule_expression": "rate(5 minutes)",
                    "state": "ENABLED",
                    "target": {"arn": "${aws_lambda_function.R.arn}", "role_arn": "x"},
                }
            },
        },
    }
    (schedule,) = parse_stack(doc).schedules
    assert (schedule.name, schedule.function, schedule.expression, schedule.enabled) == (
        "reconciler-dev",
        "R",
        "rate(5 minutes)",
        True,
    )


def test_the_ready_file_is_written_whole_and_replaces_the_last_one(tmp_path):
    ready = tmp_path / "ready.json"
    ready.write_text("stale")
    write_ready_file(str(ready), {"api_url": "http://127.0.0.1:8080", "tables": ["a", "b"]})
    assert json.loads(ready.read_text()) == {"api_url": "http://127.0.0.1:8080", "tables": ["a", "b"]}
    assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]  # no scratch file left
