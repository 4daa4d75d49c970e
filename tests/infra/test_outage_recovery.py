"""Synthesized recovery pieces: the sparse pending index, the scheduled reconciler, alarms that mean
something (missing data, runbook links) and the subscriptions of the alerts topic."""

from __future__ import annotations

import pytest

from card_transactions.stacks.app import TRANSACTION_STACK, build_app
from card_transactions.stacks.config import Settings
from tests.infra.synth import Stack


def _statements(stack: Stack, reference: str) -> list[dict]:
    return stack.policy_document(reference)["statement"]


def _alarms(stack: Stack) -> dict[str, dict]:
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


def test_pending_index_is_sparse_and_carries_the_message(stack):
    table = stack.by_path("aws_dynamodb_table", "TransactionTable/Table")
    (index,) = [i for i in table["global_secondary_index"] if i["name"] == "pending-by-age"]
    assert (index["hash_key"], index["range_key"]) == ("pending_shard", "pending_since_ms")
    assert (index["projection_type"], index["non_key_attributes"]) == ("INCLUDE", ["message"])
    types = {a["name"]: a["type"] for a in table["attribute"]}
    assert types["pending_shard"] == types["pending_since_ms"] == "N"


def test_reconciler_is_a_signed_private_function_with_one_run_at_a_time(stack):
    fn = stack.by_path("aws_lambda_function", "ReconcilerFunction/Function")
    assert fn["handler"] == "card_transactions.handlers.reconciler.handler"
    assert fn["reserved_concurrent_executions"] == 1
    assert fn["code_signing_config_arn"].startswith("${aws_lambda_code_signing_config.")
    assert fn["vpc_config"]["subnet_ids"]
    async_queue = stack.ref("aws_sqs_queue", "Queues/AsyncFailureQueue/Queue", "arn")
    assert fn["dead_letter_config"] == {"target_arn": async_queue}
    env = fn["environment"]["variables"]
    assert (env["RECONCILE_AFTER_SECONDS"], env["RECONCILE_MAX_RECORDS"]) == ("900", "5000")


def test_reconciler_role_queries_only_the_pending_index(stack):
    policy = stack.by_path("aws_iam_role_policy", "ReconcilerFunction/RolePolicy")
    by_sid = {s["sid"]: s for s in _statements(stack, policy["policy"])}
    table = stack.ref("aws_dynamodb_table", "TransactionTable/Table", "arn")
    assert by_sid["FindStalePending"]["actions"] == ["dynamodb:Query"]
    assert by_sid["FindStalePending"]["resources"] == [f"{table}/index/pending-by-age"]
    assert by_sid["MarkRequeued"] == {
        "sid": "MarkRequeued",
        "effect": "Allow",
        "actions": ["dynamodb:UpdateItem"],
        "resources": [table],
    }
    # The touch is the re-enqueue (the table's stream sends it): nothing on the transactions queue.
    queue = stack.ref("aws_sqs_queue", "Queues/TransactionQueue/Queue", "arn")
    assert not [s for s in by_sid.values() if queue in s["resources"]]


def test_scheduler_invokes_the_reconciler_every_five_minutes_and_dead_letters_failures(stack):
    (schedule,) = stack.resources("aws_scheduler_schedule").values()
    assert schedule["schedule_expression"] == "rate(5 minutes)"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["kms_key_arn"].startswith("${aws_kms_key.")
    target = schedule["target"]
    assert target["arn"] == stack.ref("aws_lambda_function", "ReconcilerFunction/Function", "arn")
    async_queue = stack.ref("aws_sqs_queue", "Queues/AsyncFailureQueue/Queue", "arn")
    assert target["dead_letter_config"] == {"arn": async_queue}
    assert target["retry_policy"] == {"maximum_retry_attempts": 2, "maximum_event_age_in_seconds": 300}
    role = stack.by_path("aws_iam_role", "ReconcilerSchedule/Role")
    (trust,) = _statements(stack, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["scheduler.amazonaws.com"]}]
    policy = stack.by_path("aws_iam_role_policy", "ReconcilerSchedule/RolePolicy")
    granted = {
        (a, r) for s in _statements(stack, policy["policy"]) for a in s["actions"] for r in s["resources"]
    }
    key = stack.ref("aws_kms_key", "Encryption/Key", "arn")
    assert granted == {
        ("lambda:InvokeFunction", target["arn"]),
        ("sqs:SendMessage", async_queue),
        ("kms:Decrypt", key),
        ("kms:GenerateDataKey", key),
    }


def test_no_alarm_breaches_on_missing_data_but_the_reconciler_heartbeat(stack):
    alarms = _alarms(stack)
    breaching = {name for name, a in alarms.items() if a["treat_missing_data"] != "notBreaching"}
    assert breaching == {"reconciler-lambda-dev-not-running"}
    heartbeat = alarms["reconciler-lambda-dev-not-running"]
    assert (heartbeat["metric_name"], heartbeat["comparison_operator"], heartbeat["threshold"]) == (
        "ReconcilerRuns",
        "LessThanThreshold",
        1,
    )
    assert heartbeat["period"] == 600 and heartbeat["evaluation_periods"] == 2


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric", "dimensions"),
    [
        (
            "transaction-processing-dev-transactions-failed",
            "TransactionProcessing",
            "TransactionsFailed",
            {"service": "failed-transaction"},
        ),
        (
            "transaction-processing-dev-transactions-retries-exhausted",
            "TransactionProcessing",
            "TransactionsRetriesExhausted",
            {"service": "failed-transaction"},
        ),
        (
            "transaction-alerts-dev-delivery-failures",
            "AWS/SNS",
            "NumberOfNotificationsFailed",
            {"TopicName": "transaction-alerts-dev"},
        ),
        (
            "reconciler-lambda-dev-stale-transactions",
            "TransactionProcessing",
            "StaleTransactionsFound",
            {"service": "reconciler"},
        ),
    ],
)
def test_event_alarms_fire_on_any_occurrence(stack, alarm, namespace, metric, dimensions):
    body = _alarms(stack)[alarm]
    assert (body["namespace"], body["metric_name"], body["dimensions"]) == (namespace, metric, dimensions)
    assert (body["statistic"], body["comparison_operator"], body["threshold"]) == (
        "Sum",
        "GreaterThanThreshold",
        0,
    )


def test_every_function_has_an_error_rate_alarm_and_the_dashboard_shows_recovery(stack):
    import json

    alarms = _alarms(stack)
    for name in ("validation", "fraud-detection", "failed-transaction", "reconciler"):
        assert f"{name}-lambda-dev-error-rate" in alarms
    (dashboard,) = stack.resources("aws_cloudwatch_dashboard").values()
    metrics = {
        m[1] for w in json.loads(dashboard["dashboard_body"])["widgets"] for m in w["properties"]["metrics"]
    }
    assert {
        "TransactionsRetriesExhausted",
        "StaleTransactionsFound",
        "NumberOfNotificationsFailed",
    } <= metrics


def test_no_subscription_and_no_forwarding_by_default(stack):
    assert stack.resources("aws_sns_topic_subscription") == {}


FORWARD_TOPIC = "arn:aws:sns:us-east-2:210987654321:central-ops-alarms"


@pytest.fixture(scope="module")
def subscribed(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    outdir = tmp_path_factory.mktemp("subscribed")
    settings = Settings.from_env(
        {
            "ALERT_EMAILS": "oncall@example.com, payments-ops@example.org",
            "ALERT_HTTPS_ENDPOINTS": "https://hooks.example.com/sns/transactions",
            "ALARM_FORWARD_TOPIC_ARN": FORWARD_TOPIC,
            "RUNBOOK_URL": "https://github.com/acme/payments/blob/main/docs/runbooks.md",
            "RECONCILE_EVERY_MINUTES": "1",
        }
    )
    build_app(settings, outdir=str(outdir)).synth()
    return Stack.load(outdir, TRANSACTION_STACK)


def test_subscriptions_for_every_address_and_endpoint(subscribed):
    topic = subscribed.ref("aws_sns_topic", "Alerts/Topic", "arn")
    subscriptions = {
        (s["protocol"], s["endpoint"], s["topic_arn"])
        for s in subscribed.resources("aws_sns_topic_subscription").values()
    }
    assert subscriptions == {
        ("email", "oncall@example.com", topic),
        ("email", "payments-ops@example.org", topic),
        ("https", "https://hooks.example.com/sns/transactions", topic),
    }


def test_alarms_also_notify_the_forward_topic_and_link_the_configured_runbooks(subscribed):
    topic = subscribed.ref("aws_sns_topic", "Alerts/Topic", "arn")
    for alarm in _alarms(subscribed).values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [topic, FORWARD_TOPIC]
        assert (
            "Runbook: https://github.com/acme/payments/blob/main/docs/runbooks.md#"
            in alarm["alarm_description"]
        )
    (schedule,) = subscribed.resources("aws_scheduler_schedule").values()
    assert schedule["schedule_expression"] == "rate(1 minute)"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ALERT_EMAILS", "oncall@example.com,not-an-address"),
        ("ALERT_HTTPS_ENDPOINTS", "http://hooks.example.com/plain-http"),
        ("ALARM_FORWARD_TOPIC_ARN", "arn:aws:sqs:us-east-2:210987654321:a-queue"),
        ("RUNBOOK_URL", "ftp://example.com/runbooks.md"),
        ("RECONCILE_EVERY_MINUTES", "90"),
        ("RECONCILE_AFTER_SECONDS", "0"),
    ],
)
def test_bad_recovery_and_alert_settings_fail_synth_naming_the_value(variable, value):
    with pytest.raises(ValueError, match=rf"{variable} must be .*got '{value}'"):
        Settings.from_env({variable: value})
