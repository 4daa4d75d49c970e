"""The stacks as a PCI assessor reads the JSON: state under the CMK, principals named in every resource
policy, endpoint and key policies scoped, no AWS managed policy, card data masked in the logs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.encryption import VIA_SERVICES
from card_transactions.stacks.constructs.logs import PAN_IDENTIFIER_NAME, PAN_PATTERN
from tests.infra.conftest import DEPLOY_ROLE, OPERATOR_ROLE, STATE_KEY
from tests.infra.synth import Stack


def _statements(stack: Stack, reference: str) -> dict[str, dict]:
    return {s["sid"]: s for s in stack.policy_document(reference)["statement"]}


def _role(stack: Stack, construct: str) -> str:
    return stack.ref("aws_iam_role", f"{construct}/Role", "arn")


def _conditions(statement: dict) -> dict[str, dict]:
    return {c["variable"]: c for c in statement.get("condition", [])}


@pytest.fixture(scope="module")
def configured(configured_dir: Path) -> Path:
    """Both stacks synthesized with the state key and a deploy role named (and an operator role)."""
    return configured_dir


# ---------- 1. state ----------


def test_backend_writes_the_state_with_the_state_buckets_key(configured):
    backend = Stack.load(configured, TRANSACTION_STACK).doc["terraform"]["backend"]["s3"]
    assert backend["kms_key_id"] == STATE_KEY
    assert backend["encrypt"] is True


def test_without_the_state_key_synth_still_works_offline(stack):
    # `make diff/deploy/migrate` refuse then (tests/delivery/test_preflight.py)
    assert "kms_key_id" not in stack.doc["terraform"]["backend"]["s3"]


def test_settings_refuse_an_alias_or_a_malformed_state_key():
    for value in ("alias/transaction-processing-tfstate-dev", "arn:aws:kms:us-east-2:123:key/x"):
        with pytest.raises(ValueError, match="TF_STATE_KMS_KEY_ARN"):
            Settings.from_env({"TF_STATE_KMS_KEY_ARN": value})


def test_state_bucket_refuses_objects_not_under_its_key(backend_stack):
    policy = backend_stack.by_path("aws_s3_bucket_policy", "StateBucketPolicy")
    deny = _statements(backend_stack, policy["policy"])["DenyObjectsNotUnderTheKey"]
    assert deny["effect"] == "Deny" and deny["actions"] == ["s3:PutObject"]
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    (key,) = backend_stack.resources("aws_kms_key")
    # StringNotEquals (not ...IfExists): an upload without the header is refused too
    assert deny["condition"] == [
        {
            "test": "StringNotEquals",
            "variable": "s3:x-amz-server-side-encryption-aws-kms-key-id",
            "values": [f"${{aws_kms_key.{key}.arn}}"],
        }
    ]
    (output,) = [v for k, v in backend_stack.doc["output"].items() if k == "state_kms_key_arn"]
    assert output["value"].startswith("${aws_kms_key.")


# ---------- 2. resource policies name their principals ----------


def _only(statement: dict, *roles: str) -> None:
    """A deny for every IAM principal except ``roles`` (none: all of them)."""
    assert statement["effect"] == "Deny"
    assert statement["principals"] == [{"type": "*", "identifiers": ["*"]}]
    expected = [{"test": "Null", "variable": "aws:PrincipalArn", "values": ["false"]}]
    if roles:
        expected.insert(0, {"test": "ArnNotEquals", "variable": "aws:PrincipalArn", "values": list(roles)})
    assert statement["condition"] == expected


def _queue_policy(stack: Stack, queue: str) -> dict[str, dict]:
    return _statements(stack, stack.by_path("aws_sqs_queue_policy", f"{queue}/Policy")["policy"])


def test_only_the_enqueue_rule_sends_and_only_fraud_detection_consumes_transactions(stack):
    policy = _queue_policy(stack, "Queues/TransactionQueue")
    _only(policy["OnlyNamedSenders"])  # no IAM principal: no function, no operator
    enqueue = policy["NamedEventRulesSend"]  # the table's stream, through the pipe and the enqueue rule
    assert (enqueue["effect"], enqueue["actions"]) == ("Allow", ["sqs:SendMessage"])
    assert enqueue["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert enqueue["condition"] == [
        {
            "test": "ArnEquals",
            "variable": "aws:SourceArn",
            "values": [stack.ref("aws_cloudwatch_event_rule", "AlertPipes/Enqueue", "arn")],
        }
    ]
    _only(policy["OnlyNamedConsumers"], _role(stack, "FraudDetectionFunction"))
    assert set(policy["OnlyNamedConsumers"]["actions"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    }
    assert "OnlyTheDeployRoleManages" not in policy  # no deploy role named: management stays with IAM


def test_only_failed_transaction_consumes_the_dlq_and_nobody_sends_to_it(stack):
    policy = _queue_policy(stack, "Queues/DeadLetterQueue")
    _only(policy["OnlyNamedSenders"])  # SQS moves dead letters itself (no aws:PrincipalArn)
    _only(policy["OnlyNamedConsumers"], _role(stack, "FailedTransactionFunction"))


def test_only_the_functions_and_the_schedule_send_failed_async_invocations(stack):
    policy = _queue_policy(stack, "Queues/AsyncFailureQueue")
    functions = (
        "ValidationFunction",
        "FraudDetectionFunction",
        "FailedTransactionFunction",
        "ReconcilerFunction",
    )
    schedule_role = stack.ref("aws_iam_role", "ReconcilerSchedule/Role", "arn")
    _only(policy["OnlyNamedSenders"], *(_role(stack, f) for f in functions), schedule_role)
    assert "OnlyNamedConsumers" not in policy  # operators read them


def test_only_the_alert_rules_and_alarms_publish_to_the_topic(stack):
    policy = stack.by_path("aws_sns_topic_policy", "Alerts/Policy")
    statements = _statements(stack, policy["policy"])
    _only(statements["OnlyNamedPublishers"])  # no IAM principal: no role, no function
    rules = statements["EventRulesPublish"]
    assert rules["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert _conditions(rules)["aws:SourceArn"]["values"] == [
        stack.ref("aws_cloudwatch_event_rule", f"AlertPipes/{rule}", "arn")
        for rule in ("FraudAlerts", "DeadLetterAlerts")
    ]
    alarms = _conditions(statements["CloudWatchAlarmsPublish"])
    assert alarms["aws:SourceArn"]["values"][0].endswith(":alarm:*")
    assert alarms["aws:SourceAccount"]["test"] == "StringEquals"


def test_a_named_deploy_role_alone_manages_queues_and_topic(configured):
    stack = Stack.load(configured, TRANSACTION_STACK)
    for queue in ("TransactionQueue", "DeadLetterQueue", "AsyncFailureQueue"):
        manage = _queue_policy(stack, f"Queues/{queue}")["OnlyTheDeployRoleManages"]
        _only(manage, DEPLOY_ROLE)
        assert {"sqs:SetQueueAttributes", "sqs:DeleteQueue"} <= set(manage["actions"])
        assert "sqs:GetQueueAttributes" not in manage["actions"]  # plans still read
        if queue == "AsyncFailureQueue":  # the operator role purges it too (docs/runbooks.md)
            purge = _queue_policy(stack, f"Queues/{queue}")["OnlyNamedPurgers"]
            _only(purge, DEPLOY_ROLE, OPERATOR_ROLE)
            assert purge["actions"] == ["sqs:PurgeQueue"]
        else:
            assert "sqs:PurgeQueue" in manage["actions"]
    topic = stack.by_path("aws_sns_topic_policy", "Alerts/Policy")
    manage = _statements(stack, topic["policy"])["OnlyTheDeployRoleManages"]
    _only(manage, DEPLOY_ROLE)
    assert "sns:SetTopicAttributes" in manage["actions"]


def test_fraud_detection_reads_merchants_itself(stack):
    policy = stack.by_path("aws_iam_role_policy", "FraudDetectionFunction/RolePolicy")
    statement = _statements(stack, policy["policy"])["ReadMerchantsToScore"]
    assert statement["actions"] == ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
    assert statement["resources"] == [stack.ref("aws_dynamodb_table", "MerchantTable/Table", "arn")]


# ---------- 3. endpoint policies ----------


def test_every_endpoint_has_a_policy_naming_roles_and_exact_arns(stack):
    endpoints = stack.resources("aws_vpc_endpoint")
    policies = stack.resources("aws_vpc_endpoint_policy").values()
    assert {p["vpc_endpoint_id"] for p in policies} == {f"${{aws_vpc_endpoint.{n}.id}}" for n in endpoints}
    for policy in policies:
        statements = stack.policy_document(policy["policy"])["statement"]
        assert statements
        for statement in statements:
            assert statement["effect"] == "Allow"
            (principal,) = statement["principals"]
            assert principal["type"] == "AWS"
            assert all(i.startswith("${aws_iam_role.") for i in principal["identifiers"])
            assert all(r.startswith("${") and "*" not in r for r in statement["resources"])


def test_dynamodb_endpoint_lets_validation_put_and_get_only_its_transactions(stack):
    (policy,) = stack.resources("aws_vpc_endpoint_policy").values()
    assert policy["vpc_endpoint_id"] == stack.ref("aws_vpc_endpoint", "Network/DynamoDbEndpoint", "id")
    statements = stack.policy_document(policy["policy"])["statement"]
    assert all(a.startswith("dynamodb:") for s in statements for a in s["actions"])
    validation = _role(stack, "ValidationFunction")
    transactions = stack.ref("aws_dynamodb_table", "TransactionTable/Table", "arn")
    granted = {
        a
        for s in statements
        if s["principals"][0]["identifiers"] == [validation] and s["resources"] == [transactions]
        for a in s["actions"]
    }
    assert granted == {"dynamodb:PutItem", "dynamodb:GetItem"}


# ---------- 4. key policy ----------


@pytest.mark.parametrize("which", [TRANSACTION_STACK, STATE_BACKEND_STACK])
def test_key_policy_delegates_only_through_services_and_binds_service_principals(stack, backend_stack, which):
    s = stack if which == TRANSACTION_STACK else backend_stack
    (key,) = s.resources("aws_kms_key").values()
    statements = s.policy_document(key["policy"])["statement"]
    for statement in statements:
        identifiers = [i for p in statement.get("principals", []) for i in p["identifiers"]]
        conditions = _conditions(statement)
        kind = statement["principals"][0]["type"]
        uses = any(
            a.startswith(("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")) for a in statement["actions"]
        )
        if kind == "AWS" and uses:
            assert "kms:ViaService" in conditions, statement["sid"]
        if kind == "Service":
            assert {"aws:SourceArn", "kms:EncryptionContext:aws:logs:arn"} & set(conditions), identifiers
        if statement["sid"] != "KeyAdministration":
            assert "kms:ScheduleKeyDeletion" not in statement["actions"]
            assert "kms:Put*" not in statement["actions"]


def test_a_named_deploy_role_alone_administers_the_keys(configured, stack):
    for name in (TRANSACTION_STACK, STATE_BACKEND_STACK):
        s = Stack.load(configured, name)
        (key,) = s.resources("aws_kms_key").values()
        admin = _statements(s, key["policy"])["KeyAdministration"]
        assert admin["principals"] == [{"type": "AWS", "identifiers": [DEPLOY_ROLE]}]
        assert {"kms:ScheduleKeyDeletion", "kms:Put*", "kms:Disable*"} <= set(admin["actions"])
    (key,) = stack.resources("aws_kms_key").values()
    default_admin = _statements(stack, key["policy"])["KeyAdministration"]
    assert default_admin["principals"][0]["identifiers"][0].endswith(":root")


# ---------- 5. no AWS managed policy ----------


def test_no_role_carries_an_aws_managed_policy(stack, backend_stack):
    for s in (stack, backend_stack):
        assert not s.resources("aws_iam_role_policy_attachment")
        assert not s.resources("aws_iam_policy_attachment")


def test_function_logs_go_only_to_their_own_group(stack):
    for construct in ("ValidationFunction", "FraudDetectionFunction", "FailedTransactionFunction"):
        policy = stack.by_path("aws_iam_role_policy", f"{construct}/RolePolicy")
        statements = _statements(stack, policy["policy"])
        group = stack.ref("aws_cloudwatch_log_group", f"{construct}/LogGroup", "arn")
        assert statements["WriteOwnLogs"]["resources"] == [f"{group}:*"]
        create = statements["CreateInterfacesInOurSubnets"]
        assert any(r.startswith("${aws_subnet.") for r in create["resources"])
        assert any(r.startswith("${aws_security_group.") for r in create["resources"])
        manage = _conditions(statements["ManageInterfacesInOurVpc"])["ec2:Vpc"]
        assert manage["values"][0].startswith("${aws_vpc.")


def test_api_gateway_logs_only_to_api_gateways_groups(backend_stack):
    policy = backend_stack.by_path("aws_iam_role_policy", "ApiGatewayLogging/RolePolicy")
    resources = {
        r for s in backend_stack.policy_document(policy["policy"])["statement"] for r in s["resources"]
    }
    groups = {r.rsplit(":log-group:", 1)[1] for r in resources}
    assert groups == {
        "API-Gateway-Execution-Logs_*",
        "API-Gateway-Execution-Logs_*:*",
        "/aws/apigateway/*",
        "/aws/apigateway/*:*",
        "*",
    }


# ---------- 6. card data masked in the logs requests reach ----------


def test_function_api_and_waf_log_groups_mask_card_data(stack):
    protected = {
        p["log_group_name"] for p in stack.resources("aws_cloudwatch_log_data_protection_policy").values()
    }
    groups = stack.resources("aws_cloudwatch_log_group")
    expected = {
        f"${{aws_cloudwatch_log_group.{name}.name}}"
        for name, body in groups.items()
        if not body["name"].startswith("/vpc/flow-logs/")
    }
    assert protected == expected and len(expected) == 7  # four functions, API access and execution, WAF
    for policy in stack.resources("aws_cloudwatch_log_data_protection_policy").values():
        name = policy["policy_document"].split(".")[2]
        document = stack.data("aws_cloudwatch_log_data_protection_policy_document")[name]
        operations = [set(s["operation"]) for s in document["statement"]]
        assert operations == [{"audit"}, {"deidentify"}]
        for statement in document["statement"]:
            assert [i.rsplit("/", 1)[-1] for i in statement["data_identifiers"]] == [
                "CreditCardNumber",
                "CreditCardExpiration",
                "CreditCardSecurityCode",
                PAN_IDENTIFIER_NAME,  # the custom identifier, by name
            ]
        assert document["configuration"]["custom_data_identifier"] == [
            {"name": PAN_IDENTIFIER_NAME, "regex": PAN_PATTERN}
        ]


# The custom identifier needs no keyword; it must catch every network's PAN however log text spaces it,
# and leave the ids and timestamps that fill ordinary log lines alone.
@pytest.mark.parametrize(
    "line",
    [
        "GET /transaction/4111111111111111 HTTP/1.1",
        "transaction_id=4111-1111-1111-1111",
        "5555 5555 5555 4444",
        "2223003122003222",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "36227206271667",
        "6200000000000005",
        '{"transaction_id":"card4111111111111111"}',
    ],
)
def test_the_custom_identifier_finds_card_numbers_without_a_keyword(line):
    assert re.search(PAN_PATTERN, line)


@pytest.mark.parametrize(
    "line",
    [
        '{"_aws":{"Timestamp":1733490123456}}',  # EMF timestamp (epoch ms)
        "REPORT RequestId: 3f1c2a9e-8b4d-4e6f-9a0b-1c2d3e4f5a6b Duration: 12.34 ms",
        "txn x_1733490123_41 accepted",
        "1865432109876543210",  # snowflake
        "2026-12-06T09:12:34.123456+00:00",
        "41111111111111111111111",  # longer than any PAN
    ],
)
def test_the_custom_identifier_leaves_ordinary_log_values_alone(line):
    assert not re.search(PAN_PATTERN, line)


def test_waf_logs_redact_the_path_the_query_and_the_api_key(stack):
    (logging,) = stack.resources("aws_wafv2_web_acl_logging_configuration").values()
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "x-api-key"}},
        {"uri_path": {}},
        {"query_string": {}},
    ]


def test_traces_are_encrypted_with_the_stacks_key_which_xray_may_use(stack):
    (config,) = stack.resources("aws_xray_encryption_config").values()
    assert config == {**config, "type": "KMS", "key_id": stack.ref("aws_kms_key", "Encryption/Key", "arn")}
    assert "xray" in VIA_SERVICES


def test_get_requests_are_not_traced(stack):
    rules = stack.resources("aws_xray_sampling_rule").values()
    (rule,) = [r for r in rules if r["http_method"] == "GET"]
    # X-Ray applies the matching rule of lowest priority first: the stage's general rule comes after.
    assert all(rule["priority"] < other["priority"] for other in rules if other is not rule)
    api_name = stack.by_path("aws_api_gateway_rest_api", "Api/RestApi")["name"]
    assert (rule["fixed_rate"], rule["reservoir_size"], rule["http_method"]) == (0, 0, "GET")
    assert (rule["service_type"], rule["service_name"]) == ("AWS::ApiGateway::Stage", f"{api_name}/prod")
    assert (rule["url_path"], rule["host"], rule["resource_arn"]) == ("*", "*", "*")
    assert len(rule["rule_name"]) <= 32


def test_an_alarm_watches_card_data_findings_in_every_protected_group(stack):
    (alarm,) = [
        a for a in stack.resources("aws_cloudwatch_metric_alarm").values() if "card-data" in a["alarm_name"]
    ]
    watched = {
        q["metric"]["dimensions"]["LogGroupName"]
        for q in alarm["metric_query"]
        if "metric" in q and q["metric"]["metric_name"] == "LogEventsWithFindings"
    }
    protected = {
        p["log_group_name"] for p in stack.resources("aws_cloudwatch_log_data_protection_policy").values()
    }
    assert watched == protected
    (expression,) = [q for q in alarm["metric_query"] if q.get("return_data")]
    assert expression["expression"] == "SUM(METRICS())"
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["actions_enabled"] is True and alarm["alarm_actions"]
