"""The moto server answers a retry of a call it already answered with that answer, run once.

Attempts are marked as the AWS SDKs mark them (``amz-sdk-invocation-id`` and ``amz-sdk-request``; botocore
sends both too). The tests pin the two headers to replay what the provider's SDK sends after a lost answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.terraform_check.moto_server import MotoServer


@pytest.fixture
def new_client(moto: MotoServer) -> Callable[[], Any]:
    def client() -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=moto.endpoint,
            region_name="us-east-2",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    return client


@contextmanager
def as_attempt(client: Any, invocation: str, attempt: int) -> Iterator[None]:
    """Calls in the block go out as attempt ``attempt`` of the SDK call ``invocation``."""

    def headers(request: Any, **_: Any) -> None:
        request.headers["amz-sdk-invocation-id"] = invocation
        request.headers["amz-sdk-request"] = f"attempt={attempt}; max=25"

    client.meta.events.register_first("before-send", headers)
    try:
        yield
    finally:
        client.meta.events.unregister("before-send", headers)


def create_table(client: Any, name: str) -> dict[str, Any]:
    return client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_retry_of_an_answered_create_gets_the_first_answer_and_creates_once(new_client):
    dynamodb = new_client()
    with as_attempt(dynamodb, "create-once", attempt=1):
        first = create_table(dynamodb, "answered-retry")

    with as_attempt(dynamodb, "create-once", attempt=2):
        again = create_table(dynamodb, "answered-retry")

    assert again == first
    assert dynamodb.list_tables()["TableNames"].count("answered-retry") == 1


def test_a_new_call_runs_again(new_client):
    dynamodb = new_client()
    create_table(dynamodb, "called-twice")

    with pytest.raises(ClientError, match="ResourceInUseException"):
        create_table(dynamodb, "called-twice")


def test_a_retry_of_a_call_that_failed_runs_again(new_client):
    dynamodb = new_client()
    with (
        as_attempt(dynamodb, "failed-first", attempt=1),
        pytest.raises(ClientError, match="ResourceNotFound"),
    ):
        dynamodb.describe_table(TableName="made-between-attempts")
    create_table(new_client(), "made-between-attempts")

    with as_attempt(dynamodb, "failed-first", attempt=2):
        table = dynamodb.describe_table(TableName="made-between-attempts")["Table"]

    assert table["TableName"] == "made-between-attempts"
