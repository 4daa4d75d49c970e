"""Alerts from the committed state (the table's stream, the two pipes, their role, DLQ and alarm), and the
X-Ray sampling rule of the API."""

from __future__ import annotations

import json
import re

import pytest

from local.pipe_rules import matches
from stacks.constructs.alert_pipes import (
    DEAD_LETTER_TEMPLATE,
    FRAUD_TEMPLATE,
    MAXIMUM_RETRY_ATTEMPTS,
    dead_letter_filters,
    fraud_filters,
)
from tests.infra.synth import Stack

PIPES = {
    "FraudAlerts": "transaction-alerts-dev-fraud",
    "DeadLetterAlerts": "transaction-alerts-dev-dead-letters",
}


def _statements(stack: Stack, reference: str) -> dict[str, dict]:
    return {s["sid"]: s for s in stack.policy_document(reference)["statement"]}


def _record(event: str, new: dict | None, old: dict | None = None) -> dict:
    images = {}
    if new is not None:
        images["NewImage"] = {k: {"S": v} for k, v in new.items()}
    if old is not None:
        images["OldImage"] = {k: {"S": v} for k, v in old.items()}
    return {"eventName": event, "dynamodb": images}


def _matches(patterns: list[str], record: dict) -> bool:
    return matches(patterns, record)


def test_the_transaction_table_streams_old_and_new_images_and_the_merchant_table_does_not(stack):
    transactions = stack.by_path("aws_dynamodb_table", "TransactionTable/Table")
    assert (transactions["stream_enabled"], transactions["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert "stream_enabled" not in stack.by_path("aws_dynamodb_table", "MerchantTable/Table")


@pytest.mark.parametrize(("construct", "name"), PIPES.items())
def test_each_pipe_reads_the_stream_and_publishes_to_the_topic_encrypted(stack, construct, name):
    pipe = stack.by_path("aws_pipes_pipe", f"AlertPipes/{construct}")
    assert pipe["name"] == name
    assert pipe["source"] == stack.ref("aws_dynamodb_table", "TransactionTable/Table", "stream_arn")
    assert pipe["target"] == stack.ref("aws_sns_topic", "Alerts/Topic", "arn")
    assert pipe["kms_key_identifier"].startswith("${aws_kms_key.")
    assert pipe["role_arn"] == stack.ref("aws_iam_role", "AlertPipes/Role", "arn")
    source = pipe["source_parameters"]["dynamodb_stream_parameters"]
    assert source["dead_letter_config"]["arn"] == stack.ref(
        "aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue", "arn"
    )
    assert source["maximum_retry_attempts"] == MAXIMUM_RETRY_ATTEMPTS
    assert source["starting_position"] == "LATEST"


def test_the_pipes_carry_the_filters_and_templates_of_the_module(stack):
    fraud = stack.by_path("aws_pipes_pipe", "AlertPipes/FraudAlerts")
    dead = stack.by_path("aws_pipes_pipe", "AlertPipes/DeadLetterAlerts")
    patterns = [f["pattern"] for f in fraud["source_parameters"]["filter_criteria"]["filter"]]
    assert patterns == fraud_filters(alert_on_review_required=False)
    assert fraud["target_parameters"]["input_template"] == FRAUD_TEMPLATE
    patterns = [f["pattern"] for f in dead["source_parameters"]["filter_criteria"]["filter"]]
    assert patterns == dead_letter_filters()
    assert dead["target_parameters"]["input_template"] == DEAD_LETTER_TEMPLATE


def test_fraud_filter_matches_the_verdict_transition_only():
    suspected = {"status": "FRAUD_SUSPECTED"}
    pending = {"status": "PENDING_FRAUD_CHECK"}
    assert _matches(fraud_filters(False), _record("MODIFY", suspected, pending))
    assert not _matches(fraud_filters(False), _record("MODIFY", suspected, suspected))  # a later update
    assert not _matches(fraud_filters(False), _record("MODIFY", {"status": "REVIEW_REQUIRED"}, pending))
    assert _matches(fraud_filters(True), _record("MODIFY", {"status": "REVIEW_REQUIRED"}, pending))
    assert _matches(fraud_filters(False), _record("INSERT", suspected))  # the pending record was lost
    assert not _matches(fraud_filters(False), _record("INSERT", pending))
    assert not _matches(fraud_filters(True), _record("MODIFY", {"status": "APPROVED"}, pending))
    assert not _matches(fraud_filters(True), _record("REMOVE", None, suspected))


def test_dead_letter_filters_match_failed_and_the_first_exhaustion_only():
    pending = {"status": "PENDING_FRAUD_CHECK"}
    failed = {"status": "FAILED", "failure_reason": "INVALID_MESSAGE"}
    exhausted = {**pending, "failure_reason": "PROCESSING_RETRIES_EXHAUSTED"}
    filters = dead_letter_filters()
    assert _matches(filters, _record("MODIFY", failed, pending))
    assert _matches(filters, _record("MODIFY", failed, exhausted))
    assert _matches(filters, _record("INSERT", failed))
    assert _matches(filters, _record("MODIFY", exhausted, pending))
    assert _matches(filters, _record("INSERT", exhausted))
    assert not _matches(filters, _record("MODIFY", exhausted, exhausted))  # a duplicate dead letter
    assert not _matches(filters, _record("MODIFY", pending, exhausted))  # re-enqueued by the reconciler
    assert not _matches(filters, _record("MODIFY", failed, failed))
    assert not _matches(filters, _record("INSERT", pending))


def test_templates_carry_the_alert_fields_and_no_cardholder_data():
    fraud = json.loads(re.sub(r'"?<\$[^>]*>"?', "0", FRAUD_TEMPLATE))
    assert set(fraud) == {
        "alert_type",
        "transaction_id",
        "merchant_id",
        "amount",
        "currency",
        "status",
        "fraud_score",
        "reasons",
        "received_at",
    }
    for template in (FRAUD_TEMPLATE, DEAD_LETTER_TEMPLATE):
        assert "metadata" not in template and "message" not in template.replace("$.dynamodb", "")
    assert '"failure_reason": "<$.dynamodb.NewImage.failure_reason.S>"' in DEAD_LETTER_TEMPLATE


def test_the_pipes_role_reads_this_stream_publishes_to_this_topic_and_nothing_else(stack):
    role = stack.by_path("aws_iam_role", "AlertPipes/Role")
    (trust,) = stack.policy_document(role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["pipes.amazonaws.com"]}]
    policy = stack.by_path("aws_iam_role_policy", "AlertPipes/RolePolicy")
    statements = _statements(stack, policy["policy"])
    assert set(statements) == {
        "ReadTransactionStream",
        "PublishAlerts",
        "SendUndeliveredAlerts",
        "UseTransactionKey",
    }
    stream = statements["ReadTransactionStream"]
    assert stream["resources"] == [stack.ref("aws_dynamodb_table", "TransactionTable/Table", "stream_arn")]
    assert set(stream["actions"]) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    assert statements["PublishAlerts"]["resources"] == [stack.ref("aws_sns_topic", "Alerts/Topic", "arn")]
    assert statements["PublishAlerts"]["actions"] == ["sns:Publish"]


def test_the_alert_dlq_is_encrypted_only_the_pipes_send_to_it_and_it_alarms(stack):
    queue = stack.by_path("aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue")
    assert queue["name"] == "transaction-alerts-dev-dlq"
    assert queue["kms_master_key_id"].startswith("${aws_kms_key.")
    policy = stack.by_path("aws_sqs_queue_policy", "AlertPipes/DeadLetterQueue/Policy")
    senders = _statements(stack, policy["policy"])["OnlyNamedSenders"]
    assert senders["condition"][0]["values"] == [stack.ref("aws_iam_role", "AlertPipes/Role", "arn")]
    alarm = stack.by_path("aws_cloudwatch_metric_alarm", "Monitoring/AlertDeadLetterQueueNotEmpty")
    assert alarm["dimensions"] == {"QueueName": "transaction-alerts-dev-dlq"}
    assert alarm["alarm_description"].endswith("#alert-dead-letter-queue-not-empty")


def test_the_key_lets_the_pipes_use_it_through_the_service(stack):
    key_policy = stack.by_path("aws_kms_key", "Encryption/Key")["policy"]
    statements = _statements(stack, key_policy)
    via = {c["variable"]: c for c in statements["UseThroughAwsServices"]["condition"]}["kms:ViaService"]
    assert "pipes.us-east-2.amazonaws.com" in via["values"]


def test_api_requests_are_sampled_by_the_configured_rule(stack):
    rule = stack.by_path("aws_xray_sampling_rule", "Tracing/Rule")
    assert (rule["service_type"], rule["service_name"]) == (
        "AWS::ApiGateway::Stage",
        "transaction-api-dev/prod",
    )
    assert (rule["reservoir_size"], rule["fixed_rate"]) == (0, 0.05)  # XRAY_SAMPLING_* defaults
    assert rule["priority"] < 10_000  # ahead of X-Ray's Default rule


def test_a_sampling_rule_name_longer_than_xray_allows_is_refused():
    from cdktf import TerraformStack, Testing

    from stacks.constructs.tracing import ApiTraceSampling

    with pytest.raises(ValueError, match="at most 32 characters"):
        ApiTraceSampling(
            TerraformStack(Testing.app(), "t"),
            "T",
            name="x" * 33,
            api_name="a",
            stage="prod",
            reservoir=0,
            rate=0.1,
        )
