"""The local AWS endpoint (moto server) and the stack's tables (with their streams), queues and topic."""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from card_transactions.settings.system import API_CLIENT_TAG
from local.config import HOST
from local.expressions import Ref, Resolver
from local.lambda_context import function_arn
from local.stack import StackSpec

CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=25)


def ensure_port_free(port: int, variable: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise OSError(
                f"{HOST}:{port} is in use ({exc.strerror}); set {variable} to another port"
            ) from None


class MotoServer:
    """moto in server mode on 127.0.0.1, in a thread of this process."""

    def __init__(self, port: int) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per AWS call
        self._server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        self.port = port

    def start(self) -> str:
        ensure_port_free(self.port, "LOCAL_AWS_PORT")  # moto's thread would die silently and start() hang
        self._server.start()
        self._started = True
        self.port = self._server.get_host_and_port()[1]
        return self.endpoint

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if getattr(self, "_started", False):
            self._server.stop()
            self._started = False


def session(region: str) -> boto3.session.Session:
    """A session of the runtime's own (never shared with the handlers, so faults never hit it)."""
    return boto3.session.Session(region_name=region, **CREDENTIALS)


def client(boto_session: boto3.session.Session, service: str, endpoint: str) -> Any:
    return boto_session.client(service, endpoint_url=endpoint, config=_CLIENT_CONFIG)


@dataclass
class Provisioned:
    """What was created, by logical id, and the resolver of the stack's references to it."""

    resolver: Resolver
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)
    usage_plan_ids: dict[str, str] = field(default_factory=dict)  # client -> its plan (in moto)
    stream_arns: dict[str, str] = field(default_factory=dict)
    inbox_url: str = ""
    inbox_name: str = ""
    console_url: str = ""


def provision(stack: StackSpec, endpoint: str, boto_session: boto3.session.Session) -> Provisioned:
    """Create every table, queue (with its redrive policy), topic and client usage plan of the stack, plus
    an inbox queue subscribed to each topic for clients and tests, and a console queue the runtime prints."""
    dynamodb = client(boto_session, "dynamodb", endpoint)
    sqs = client(boto_session, "sqs", endpoint)
    sns = client(boto_session, "sns", endpoint)
    out = Provisioned(resolver=Resolver({}))
    add = out.resolver.add

    for table in stack.tables:
        arn, stream_arn = _create_table(dynamodb, table)
        for attribute, value in (("name", table.name), ("id", table.name), ("arn", arn)):
            add(Ref("aws_dynamodb_table", table.logical_id, attribute), value)
        if stream_arn:
            out.stream_arns[table.logical_id] = stream_arn
            add(Ref("aws_dynamodb_table", table.logical_id, "stream_arn"), stream_arn)

    _create_queues(stack, sqs, out)

    for topic in stack.topics:
        arn = sns.create_topic(Name=topic.name)["TopicArn"]
        out.topic_arns[topic.logical_id] = arn
        for attribute, value in (("name", topic.name), ("arn", arn), ("id", arn)):
            add(Ref("aws_sns_topic", topic.logical_id, attribute), value)
        inbox_name = f"{topic.name}-local-inbox"
        inbox = sqs.create_queue(QueueName=inbox_name)["QueueUrl"]
        console = sqs.create_queue(QueueName=f"{topic.name}-local-console")["QueueUrl"]
        for url in (inbox, console):
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=_queue_arn(sqs, url))
        out.inbox_url, out.inbox_name, out.console_url = inbox, inbox_name, console

    apigateway = client(boto_session, "apigateway", endpoint)
    for api_client in stack.api.clients if stack.api else ():
        plan = api_client.usage_plan
        created = apigateway.create_usage_plan(
            name=api_client.plan_name,
            tags={API_CLIENT_TAG: api_client.name},
            throttle={"rateLimit": plan.rate_limit, "burstLimit": plan.burst_limit},
            **(
                {"quota": {"limit": plan.quota_limit, "period": plan.quota_period}}
                if plan.quota_limit
                else {}
            ),
        )
        out.usage_plan_ids[api_client.name] = created["id"]
        add(Ref("aws_api_gateway_usage_plan", api_client.plan_logical_id, "id"), created["id"])

    for function in stack.functions:
        arn = function_arn(stack.region, function.function_name)
        invoke = f"arn:aws:apigateway:{stack.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
        for attribute, value in (
            ("function_name", function.function_name),
            ("id", function.function_name),
            ("arn", arn),
            ("qualified_arn", f"{arn}:$LATEST"),
            ("invoke_arn", invoke),
        ):
            add(Ref("aws_lambda_function", function.logical_id, attribute), value)
    return out


def _create_queues(stack: StackSpec, sqs: Any, out: Provisioned) -> None:
    """Dead-letter targets first: a redrive policy resolves to their ARNs."""
    add = out.resolver.add
    pending = list(stack.queues)
    while pending:
        progressed = False
        for queue in list(pending):
            try:
                redrive = out.resolver.resolve(queue.redrive_policy) if queue.redrive_policy else None
            except ValueError:
                continue
            attributes = {
                "VisibilityTimeout": str(queue.visibility_timeout_seconds),
                "MessageRetentionPeriod": str(queue.message_retention_seconds),
                "ReceiveMessageWaitTimeSeconds": str(queue.receive_wait_time_seconds),
                "DelaySeconds": str(queue.delay_seconds),
            }
            if redrive:
                attributes["RedrivePolicy"] = redrive if isinstance(redrive, str) else json.dumps(redrive)
            url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
            arn = _queue_arn(sqs, url)
            out.queue_urls[queue.logical_id], out.queue_arns[queue.logical_id] = url, arn
            for attribute, value in (("name", queue.name), ("url", url), ("id", url), ("arn", arn)):
                add(Ref("aws_sqs_queue", queue.logical_id, attribute), value)
            pending.remove(queue)
            progressed = True
        if not progressed:
            names = [q.name for q in pending]
            raise ValueError(f"cannot resolve the redrive policies of {names}")


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _create_table(dynamodb: Any, table: Any) -> tuple[str, str | None]:
    """(table ARN, stream ARN or None)."""
    keys = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
    if table.range_key:
        keys.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": keys,
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in table.attributes.items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.hash_key, "KeyType": "HASH"},
                    *([{"AttributeName": index.range_key, "KeyType": "RANGE"}] if index.range_key else []),
                ],
                "Projection": {
                    "ProjectionType": index.projection_type,
                    **(
                        {"NonKeyAttributes": list(index.non_key_attributes)}
                        if index.non_key_attributes
                        else {}
                    ),
                },
            }
            for index in table.indexes
        ]
    description = dynamodb.create_table(**request)["TableDescription"]
    arn = description["TableArn"]
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    return arn, description.get("LatestStreamArn")
