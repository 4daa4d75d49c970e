"""Alerts and enqueues from the committed state (the table's stream, the pipe, the bus, its rules and
targets, the role, DLQ and alarm), and the X-Ray sampling rule of the API."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from card_transactions.stacks.constructs.alert_pipes import (
    DEAD_LETTER_MESSAGE,
    ENQUEUE_ROUTE,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    FRAUD_MESSAGE,
    MAXIMUM_RECORD_AGE_SECONDS,
    MAXIMUM_RETRY_ATTEMPTS,
    PARALLELIZATION_FACTOR,
    AlertRoute,
    Route,
    alert_routes,
    dead_letter_filters,
    enqueue_filters,
    fraud_filters,
)
from local.pipe_rules import matches, select
from local.stack import parse_stack
from tests.infra.policy_eval import Resolver
from tests.infra.synth import Stack

RULES = {
    "FraudAlerts": ("transaction-alerts-dev-fraud", FRAUD_MESSAGE),
    "DeadLetterAlerts": ("transaction-alerts-dev-dead-letters", DEAD_LETTER_MESSAGE),
}
ROUTES = [*alert_routes(alert_on_review_required=False), ENQUEUE_ROUTE]


def _statements(stack: Stack, reference: str) -> dict[str, dict]:
    return {s["sid"]: s for s in stack.policy_document(reference)["statement"]}


def _record(event: str, new: dict | None, old: dict | None = None) -> dict:
    images = {}
    if new is not None:
        images["NewImage"] = {k: {"S": v} for k, v in new.items()}
    if old is not None:
        images["OldImage"] = {k: {"S": v} for k, v in old.items()}
    return {"eventName": event, "dynamodb": images}


def _passes(route: Route, record: dict) -> bool:
    """Whether ``record`` takes ``route``: the pipe's filter passes it, and as the detail of the pipe's
    event on the bus the rule's pattern matches it (the two must agree)."""
    event = {"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": record}
    passes = matches([route.record_filter], record)
    assert matches([route.event_pattern], event) == passes
    return passes


def _matches(patterns: list[dict], record: dict) -> bool:
    return _passes(AlertRoute("R", "r", patterns, FRAUD_MESSAGE), record)


def test_the_transaction_table_streams_old_and_new_images_and_the_merchant_table_does_not(stack):
    transactions = stack.by_path("aws_dynamodb_table", "TransactionTable/Table")
    assert (transactions["stream_enabled"], transactions["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert "stream_enabled" not in stack.by_path("aws_dynamodb_table", "MerchantTable/Table")


def test_one_pipe_reads_the_stream_and_puts_the_alerting_records_on_the_encrypted_bus(stack):
    (pipe,) = stack.resources("aws_pipes_pipe").values()
    assert pipe == stack.by_path("aws_pipes_pipe", "AlertPipes/Pipe")
    assert pipe["name"] == "transaction-alerts-dev"
    assert pipe["source"] == stack.ref("aws_dynamodb_table", "TransactionTable/Table", "stream_arn")
    assert pipe["target"] == stack.ref("aws_cloudwatch_event_bus", "AlertPipes/Bus", "arn")
    assert pipe["kms_key_identifier"].startswith("${aws_kms_key.")
    assert pipe["role_arn"] == stack.ref("aws_iam_role", "AlertPipes/Role", "arn")
    source = pipe["source_parameters"]["dynamodb_stream_parameters"]
    assert source["dead_letter_config"]["arn"] == stack.ref(
        "aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue", "arn"
    )
    assert source["maximum_retry_attempts"] == MAXIMUM_RETRY_ATTEMPTS
    assert source["starting_position"] == "LATEST"
    # One record per batch, up to 10 batches per shard at once (a key's records stay in order).
    assert (source["batch_size"], source["parallelization_factor"]) == (1, PARALLELIZATION_FACTOR)
    assert PARALLELIZATION_FACTOR == 10
    patterns = [f["pattern"] for f in pipe["source_parameters"]["filter_criteria"]["filter"]]
    assert patterns == [r.record_filter for r in ROUTES]
    assert len(patterns) <= 5  # the Pipes quota of filters per pipe
    assert pipe["target_parameters"] == {
        "eventbridge_event_bus_parameters": {"source": EVENT_SOURCE, "detail_type": EVENT_DETAIL_TYPE}
    }
    bus = stack.by_path("aws_cloudwatch_event_bus", "AlertPipes/Bus")
    assert (bus["name"], bus["kms_key_identifier"]) == ("transaction-alerts-dev", pipe["kms_key_identifier"])


@pytest.mark.parametrize(("construct", "expected"), RULES.items())
def test_each_alert_kind_has_a_rule_on_the_bus_publishing_its_message(stack, construct, expected):
    name, message = expected
    rule = stack.by_path("aws_cloudwatch_event_rule", f"AlertPipes/{construct}")
    route = {r.construct_id: r for r in alert_routes(alert_on_review_required=False)}[construct]
    assert rule["name"] == name
    assert rule["event_bus_name"] == stack.ref("aws_cloudwatch_event_bus", "AlertPipes/Bus", "name")
    assert rule["event_pattern"] == route.event_pattern
    assert json.loads(rule["event_pattern"])["detail"] == {"$or": list(route.filters)}
    target = stack.by_path("aws_cloudwatch_event_target", f"AlertPipes/{construct}Target")
    assert target["rule"] == stack.ref("aws_cloudwatch_event_rule", f"AlertPipes/{construct}", "name")
    assert target["event_bus_name"] == rule["event_bus_name"]
    assert target["arn"] == stack.ref("aws_sns_topic", "Alerts/Topic", "arn")
    assert target["input_transformer"] == {
        "input_paths": message.input_paths,
        "input_template": message.template,
    }
    assert target["retry_policy"]["maximum_event_age_in_seconds"] == MAXIMUM_RECORD_AGE_SECONDS
    assert target["dead_letter_config"]["arn"] == stack.ref(
        "aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue", "arn"
    )


def test_the_enqueue_rule_sends_the_stored_message_of_what_the_pipe_passes_to_the_transactions_queue(stack):
    pipe = stack.by_path("aws_pipes_pipe", "AlertPipes/Pipe")
    enqueue_filter = pipe["source_parameters"]["filter_criteria"]["filter"][-1]["pattern"]
    rule = stack.by_path("aws_cloudwatch_event_rule", "AlertPipes/Enqueue")
    assert rule["name"] == "transaction-alerts-dev-enqueue"
    assert rule["event_bus_name"] == stack.ref("aws_cloudwatch_event_bus", "AlertPipes/Bus", "name")
    assert rule["state"] == "ENABLED"
    pattern = json.loads(rule["event_pattern"])
    assert pattern == {
        "source": [EVENT_SOURCE],
        "detail-type": [EVENT_DETAIL_TYPE],
        "detail": json.loads(enqueue_filter),
    }
    assert json.loads(enqueue_filter) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {
            "NewImage": {
                "status": {"S": ["PENDING_FRAUD_CHECK"]},
                "message": {"S": [{"exists": True}]},
                "failure_reason": {"S": [{"exists": False}]},
            }
        },
    }
    target = stack.by_path("aws_cloudwatch_event_target", "AlertPipes/EnqueueTarget")
    assert target["rule"] == stack.ref("aws_cloudwatch_event_rule", "AlertPipes/Enqueue", "name")
    assert target["event_bus_name"] == rule["event_bus_name"]
    assert target["target_id"] == "transactions-queue"
    assert target["arn"] == stack.ref("aws_sqs_queue", "Queues/TransactionQueue/Queue", "arn")
    assert target["input_path"] == "$.detail.dynamodb.NewImage.message"
    assert "input_transformer" not in target
    assert target["retry_policy"]["maximum_event_age_in_seconds"] == MAXIMUM_RECORD_AGE_SECONDS
    assert target["dead_letter_config"]["arn"] == stack.ref(
        "aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue", "arn"
    )


def _item(status: str, **attributes: str) -> dict:
    """A transaction as the stream shows it (string attributes; the pending index's number)."""
    item = {"transaction_id": {"S": "t1"}, "status": {"S": status}, "pending_since_ms": {"N": "1"}}
    return item | {name: {"S": value} for name, value in attributes.items()}


MESSAGE = json.dumps({"transaction_id": "t1", "merchant_id": "m1", "amount": "10.00"})


def test_the_enqueue_filter_passes_the_pending_put_and_the_reconcilers_touch_only():
    pending = _item("PENDING_FRAUD_CHECK", message=MESSAGE)
    exhausted = _item("PENDING_FRAUD_CHECK", message=MESSAGE, failure_reason="PROCESSING_RETRIES_EXHAUSTED")

    def record(event: str, new: dict | None, old: dict | None = None) -> dict:
        images = {"NewImage": new} if new is not None else {}
        return {"eventName": event, "dynamodb": images | ({"OldImage": old} if old is not None else {})}

    put = record("INSERT", pending)
    assert _passes(ENQUEUE_ROUTE, put)
    assert _passes(ENQUEUE_ROUTE, record("MODIFY", pending, exhausted))  # the touch removes the reason
    assert _passes(ENQUEUE_ROUTE, record("MODIFY", pending, pending))  # the touch of a lost message
    assert not _passes(ENQUEUE_ROUTE, record("MODIFY", exhausted, pending))  # retries exhausted
    assert not _passes(ENQUEUE_ROUTE, record("INSERT", exhausted))
    for verdict in ("APPROVED", "FRAUD_SUSPECTED", "REVIEW_REQUIRED", "FAILED"):
        assert not _passes(ENQUEUE_ROUTE, record("MODIFY", _item(verdict, message=MESSAGE), pending))
        assert not _passes(ENQUEUE_ROUTE, record("INSERT", _item(verdict, message=MESSAGE)))
    assert not _passes(ENQUEUE_ROUTE, record("INSERT", _item("PENDING_FRAUD_CHECK")))  # no message stored
    assert not _passes(ENQUEUE_ROUTE, record("REMOVE", None, pending))
    assert [r.construct_id for r in ROUTES if _passes(r, put)] == ["Enqueue"]  # no alert for a put
    # The queue message's body: the stored attribute as the stream shows it.
    event = {"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": put}
    assert select(event, ENQUEUE_ROUTE.input_path) == {"S": MESSAGE}
    assert enqueue_filters() == list(ENQUEUE_ROUTE.filters)


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


def test_messages_carry_the_alert_fields_and_no_cardholder_data():
    fraud = json.loads(re.sub(r'"?<[a-z_]+>"?', "0", FRAUD_MESSAGE.template))
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
    for message in (FRAUD_MESSAGE, DEAD_LETTER_MESSAGE):
        assert "metadata" not in message.template + json.dumps(message.input_paths)
        assert all(path.startswith("$.detail.dynamodb.NewImage.") for path in message.input_paths.values())
    assert '"failure_reason": "<failure_reason>"' in DEAD_LETTER_MESSAGE.template
    assert DEAD_LETTER_MESSAGE.input_paths["failure_reason"] == "$.detail.dynamodb.NewImage.failure_reason.S"


def test_the_pipes_role_reads_this_stream_puts_events_on_this_bus_and_nothing_else(stack):
    role = stack.by_path("aws_iam_role", "AlertPipes/Role")
    (trust,) = stack.policy_document(role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["pipes.amazonaws.com"]}]
    policy = stack.by_path("aws_iam_role_policy", "AlertPipes/RolePolicy")
    statements = _statements(stack, policy["policy"])
    assert set(statements) == {
        "ReadTransactionStream",
        "PutAlertEvents",
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
    bus = stack.ref("aws_cloudwatch_event_bus", "AlertPipes/Bus", "arn")
    assert statements["PutAlertEvents"]["resources"] == [bus]
    assert statements["PutAlertEvents"]["actions"] == ["events:PutEvents"]


def test_the_alert_dlq_is_encrypted_only_the_pipe_and_the_rules_send_to_it_and_it_alarms(stack):
    """Undelivered alerts and undelivered enqueues share it."""
    queue = stack.by_path("aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue")
    assert queue["name"] == "transaction-alerts-dev-dlq"
    assert queue["kms_master_key_id"].startswith("${aws_kms_key.")
    policy = stack.by_path("aws_sqs_queue_policy", "AlertPipes/DeadLetterQueue/Policy")
    statements = _statements(stack, policy["policy"])
    senders = statements["OnlyNamedSenders"]
    assert senders["condition"][0]["values"] == [stack.ref("aws_iam_role", "AlertPipes/Role", "arn")]
    rules = statements["NamedEventRulesSend"]
    assert rules["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert rules["condition"] == [
        {
            "test": "ArnEquals",
            "variable": "aws:SourceArn",
            "values": [
                stack.ref("aws_cloudwatch_event_rule", f"AlertPipes/{r.construct_id}", "arn") for r in ROUTES
            ],
        }
    ]
    alarm = stack.by_path("aws_cloudwatch_metric_alarm", "Monitoring/AlertDeadLetterQueueNotEmpty")
    assert alarm["dimensions"] == {"QueueName": "transaction-alerts-dev-dlq"}
    assert alarm["alarm_description"].endswith("#alert-dead-letter-queue-not-empty")


def test_the_key_lets_the_pipe_and_eventbridge_of_this_account_use_it(stack):
    key_policy = stack.by_path("aws_kms_key", "Encryption/Key")["policy"]
    statements = _statements(stack, key_policy)
    via = {c["variable"]: c for c in statements["UseThroughAwsServices"]["condition"]}["kms:ViaService"]
    assert {"pipes.us-east-2.amazonaws.com", "events.us-east-2.amazonaws.com"} <= set(via["values"])
    events = statements["EventBridge"]
    assert events["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    conditions = {c["variable"]: c for c in events["condition"]}
    assert re.fullmatch(r"arn:.*:events:us-east-2:.*:\*", conditions["aws:SourceArn"]["values"][0])
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    # Every rule's deliveries to the encrypted topic and queues: the enqueue rule's too.
    resolver = Resolver(stack)
    (resolved,) = [s for s in resolver.statements(key_policy) if s["sid"] == "EventBridge"]
    (source_arn,) = [c for c in resolved["condition"] if c["variable"] == "aws:SourceArn"]
    assert source_arn["test"] == "ArnLike"
    for route in ROUTES:
        rule = resolver.value(
            stack.ref("aws_cloudwatch_event_rule", f"AlertPipes/{route.construct_id}", "arn")
        )
        assert any(fnmatch.fnmatchcase(rule, pattern) for pattern in source_arn["values"]), rule


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

    from card_transactions.stacks.constructs.tracing import ApiTraceSampling

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


def test_the_local_runtime_reads_the_pipe_rules_and_targets_from_the_synthesized_stack(stack):
    spec = parse_stack(stack.doc)
    (pipe,) = spec.pipes
    bus = stack.logical_id("aws_cloudwatch_event_bus", "AlertPipes/Bus")
    assert (pipe.bus, pipe.event_source, pipe.detail_type) == (bus, EVENT_SOURCE, EVENT_DETAIL_TYPE)
    assert pipe.filters == tuple(r.record_filter for r in ROUTES)
    topic = stack.logical_id("aws_sns_topic", "Alerts/Topic")
    dlq = stack.logical_id("aws_sqs_queue", "AlertPipes/DeadLetterQueue/Queue")
    assert pipe.dead_letter_queue == dlq
    rules = {r.name: r for r in spec.rules}
    assert set(rules) == {*(name for name, _ in RULES.values()), "transaction-alerts-dev-enqueue"}
    for name, message in RULES.values():
        (target,) = rules[name].targets
        assert (rules[name].bus, rules[name].enabled) == (bus, True)
        assert (target.topic, target.queue, target.dead_letter_queue) == (topic, None, dlq)
        assert (dict(target.input_paths), target.input_template) == (message.input_paths, message.template)
        assert target.input_path is None
        assert target.maximum_event_age_seconds == MAXIMUM_RECORD_AGE_SECONDS
    enqueue = rules["transaction-alerts-dev-enqueue"]
    (target,) = enqueue.targets
    assert (enqueue.bus, enqueue.enabled, enqueue.pattern) == (bus, True, ENQUEUE_ROUTE.event_pattern)
    queue = stack.logical_id("aws_sqs_queue", "Queues/TransactionQueue/Queue")
    assert (target.topic, target.queue, target.dead_letter_queue) == (None, queue, dlq)
    assert (target.input_path, dict(target.input_paths), target.input_template) == (
        ENQUEUE_ROUTE.input_path,
        {},
        None,
    )
    assert target.maximum_event_age_seconds == MAXIMUM_RECORD_AGE_SECONDS
