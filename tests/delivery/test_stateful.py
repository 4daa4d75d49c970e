"""tools/stateful.py: which planned changes lose data."""

from __future__ import annotations

from tools.stateful import STATEFUL_TYPES, Destructive, destructive_changes


def change(address: str, *actions: str, mode: str = "managed") -> dict:
    return {
        "address": address,
        "mode": mode,
        "type": address.split(".", maxsplit=1)[0],
        "change": {"actions": list(actions)},
    }


def test_replacements_and_deletions_of_stateful_types_are_destructive():
    plan = {
        "resource_changes": [
            change("aws_sqs_queue.q", "delete"),
            change("aws_dynamodb_table.t", "create", "delete"),  # create before destroy: still a replacement
            change("aws_kms_key.k", "delete", "create"),
            change("aws_lambda_function.f", "delete", "create"),  # configuration: rebuilt as it was
            change("aws_kms_alias.a", "delete"),
            change("aws_s3_bucket.b", "update"),
            change("aws_cloudwatch_log_group.g", "no-op"),
            change("aws_s3_bucket.gone", "forget"),  # a `removed` block without destroy keeps the bucket
            change("aws_s3_bucket.read", "read", mode="data"),
        ]
    }
    assert destructive_changes(plan) == [
        Destructive("aws_dynamodb_table.t", "aws_dynamodb_table", "replace"),
        Destructive("aws_kms_key.k", "aws_kms_key", "replace"),
        Destructive("aws_sqs_queue.q", "aws_sqs_queue", "delete"),
    ]
    assert destructive_changes({}) == []


def test_the_list_covers_the_data_of_the_system():
    assert {
        "aws_dynamodb_table",
        "aws_sqs_queue",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_cloudwatch_log_group",
    } <= set(STATEFUL_TYPES)
    assert "aws_kms_alias" not in STATEFUL_TYPES  # a name: recreating it loses nothing
    assert (
        Destructive("aws_sqs_queue.q", "aws_sqs_queue", "delete")
        .describe()
        .startswith("aws_sqs_queue.q: delete (loses the messages")
    )
