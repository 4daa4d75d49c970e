"""The synthesized transaction stack has every resource with its security and sizing properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from card_transactions.handlers.domain.schema import load_transaction_schema
from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSES
from card_transactions.stacks.app import (
    REMOVED_FILE,
    STATE_BACKEND_STACK,
    TRANSACTION_STACK,
    build_app,
    removed_tf,
)
from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.api import provider_normalized_json
from card_transactions.stacks.constructs.api_clients import FORMER_KEY_RESOURCES
from card_transactions.stacks.constructs.api_clients import logical_id as cdktf_logical_id
from card_transactions.stacks.transaction_stack import TransactionStack
from tests.infra.synth import Stack

FUNCTIONS = {
    "ValidationFunction": "validation-lambda-dev",
    "FraudDetectionFunction": "fraud-detection-lambda-dev",
    "FailedTransactionFunction": "failed-transaction-lambda-dev",
    "ReconcilerFunction": "reconciler-lambda-dev",
}


# One synth with every client, WAF and domain option away from its default: clients with their own limits
# and binding required, WAF groups, overrides and window, a custom domain with its zone, the account role
# left alone.
VARIANT = Settings(
    api_clients=("acme:100:200:5000", "globex:50:100:1000"),
    require_merchant_clients=True,
    waf_managed_rule_groups=("AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList"),
    waf_rule_action_overrides=(
        "AWSManagedRulesAnonymousIpList:HostingProviderIPList=count",
        "AWSManagedRulesAnonymousIpList:AnonymousIPList=count",
    ),
    waf_rate_window_seconds=60,
    api_domain_name="api.payments.example.com",
    api_certificate_arn="arn:aws:acm:us-east-2:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
    api_hosted_zone_id="Z0123456789ABCDEFGHIJ",
    manage_api_gateway_account=False,
    manage_xray_encryption=False,
)


@pytest.fixture(scope="module")
def variant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("variant")
    build_app(VARIANT, outdir=str(outdir)).synth()
    return outdir


@pytest.fixture(scope="module")
def variant(variant_dir: Path) -> Stack:
    return Stack.load(variant_dir, TRANSACTION_STACK)


def _statements(stack: Stack, reference: str) -> list[dict]:
    return stack.policy_document(reference)["statement"]


# ---------- encryption ----------


def test_one_customer_managed_key_with_rotation_and_scoped_policy(stack):
    (key,) = stack.resources("aws_kms_key").values()
    assert key["enable_key_rotation"] is True
    assert key["is_enabled"] is True
    statements = _statements(stack, key["policy"])
    for statement in statements:
        assert "kms:*" not in statement["actions"]
        assert statement["resources"] != ["*"]
        assert {"type": "*", "identifiers": ["*"]} not in statement.get("principals", [])
    services = {
        i
        for s in statements
        for p in s.get("principals", [])
        if p["type"] == "Service"
        for i in p["identifiers"]
    }
    assert services == {
        "logs.us-east-2.amazonaws.com",
        "sns.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
    }


# ---------- network ----------


def test_vpc_is_private_with_two_zones_and_no_internet_path(stack):
    assert not stack.resources("aws_internet_gateway")
    assert not stack.resources("aws_nat_gateway")
    assert not stack.resources("aws_route")
    subnets = stack.resources("aws_subnet").values()
    assert len(subnets) == 2
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)
    (zones,) = stack.data("aws_availability_zones").values()
    assert zones["state"] == "available"
    assert zones["filter"] == [{"name": "zone-name", "values": [f"us-east-2{c}" for c in "abcdef"]}]
    assert len({s["availability_zone"] for s in subnets}) == 2
    (default_sg,) = stack.resources("aws_default_security_group").values()
    assert "ingress" not in default_sg and "egress" not in default_sg


def test_lambda_security_group_allows_only_https_egress_to_dynamodb(stack):
    group = stack.by_path("aws_security_group", "Network/LambdaSecurityGroup")
    assert group["description"]
    group_ref = stack.ref("aws_security_group", "Network/LambdaSecurityGroup", "id")
    (rule,) = stack.resources("aws_vpc_security_group_egress_rule").values()
    assert rule["security_group_id"] == group_ref
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (443, 443, "tcp")
    assert rule["description"]
    assert rule["prefix_list_id"] == stack.ref(
        "aws_vpc_endpoint", "Network/DynamoDbEndpoint", "prefix_list_id"
    )
    assert "cidr_ipv4" not in rule
    (only_group,) = stack.resources("aws_security_group").values()  # no endpoint group
    assert only_group == group
    ingress = [
        r
        for r in stack.resources("aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == group_ref
    ]
    assert ingress == []


def test_flow_logs_go_to_an_encrypted_log_group(stack):
    (flow_log,) = stack.resources("aws_flow_log").values()
    assert flow_log["vpc_id"] == stack.ref("aws_vpc", "Network/Vpc", "id")
    assert flow_log["traffic_type"] == "ALL"
    group = stack.by_path("aws_cloudwatch_log_group", "Network/FlowLogGroup")
    assert group["kms_key_id"].startswith("${aws_kms_key.")


def test_the_only_endpoint_is_dynamodbs_gateway(stack):
    # No interface endpoint: EventBridge sends to the queue and publishes alerts from the table's stream,
    # Lambda's event source mappings poll the queues: nothing but DynamoDB is called from the VPC.
    (endpoint,) = stack.resources("aws_vpc_endpoint").values()
    assert endpoint == stack.by_path("aws_vpc_endpoint", "Network/DynamoDbEndpoint")
    assert (endpoint["service_name"], endpoint["vpc_endpoint_type"]) == (
        "com.amazonaws.us-east-2.dynamodb",
        "Gateway",
    )


# ---------- data ----------


@pytest.mark.parametrize(
    ("path", "name", "key"),
    [
        ("MerchantTable/Table", "merchant-config-dev", "merchant_id"),
        ("TransactionTable/Table", "processed-transactions-dev", "transaction_id"),
    ],
)
def test_tables_are_on_demand_recoverable_and_encrypted_with_the_cmk(stack, path, name, key):
    table = stack.by_path("aws_dynamodb_table", path)
    assert (table["name"], table["hash_key"], table["billing_mode"]) == (name, key, "PAY_PER_REQUEST")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["enabled"] is True
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
    assert table["deletion_protection_enabled"] is True


def test_transaction_table_has_the_merchant_velocity_index(stack):
    table = stack.by_path("aws_dynamodb_table", "TransactionTable/Table")
    (index,) = [i for i in table["global_secondary_index"] if i["name"] == "by-merchant"]
    assert (index["name"], index["hash_key"], index["range_key"]) == (
        "by-merchant",
        "merchant_id",
        "received_epoch_ms",
    )


def test_queue_redrives_to_the_dlq_after_24_receives(stack):
    queue = stack.by_path("aws_sqs_queue", "Queues/TransactionQueue/Queue")
    dlq = stack.by_path("aws_sqs_queue", "Queues/DeadLetterQueue/Queue")
    dlq_arn = stack.ref("aws_sqs_queue", "Queues/DeadLetterQueue/Queue", "arn")
    assert (
        queue["redrive_policy"]
        == f'${{jsonencode({{"deadLetterTargetArn" = {dlq_arn[2:-1]}, "maxReceiveCount" = 24}})}}'
    )
    assert dlq["message_retention_seconds"] == 14 * 24 * 3600
    fraud_timeout = stack.by_path("aws_lambda_function", "FraudDetectionFunction/Function")["timeout"]
    failed_timeout = stack.by_path("aws_lambda_function", "FailedTransactionFunction/Function")["timeout"]
    assert queue["visibility_timeout_seconds"] >= 6 * fraud_timeout
    assert dlq["visibility_timeout_seconds"] >= 6 * failed_timeout


def test_every_queue_is_cmk_encrypted_and_tls_only(stack):
    queues = stack.resources("aws_sqs_queue")
    policies = stack.resources("aws_sqs_queue_policy").values()
    assert len(queues) == len(policies) == 4  # transactions, its DLQ, async failures, undelivered alerts
    for queue in queues.values():
        assert queue["kms_master_key_id"].startswith("${aws_kms_key.")
    for policy in policies:
        (deny,) = [s for s in _statements(stack, policy["policy"]) if s["sid"] == "DenyInsecureTransport"]
        assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_topic_is_cmk_encrypted_and_tls_only(stack):
    (topic,) = stack.resources("aws_sns_topic").values()
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")
    (policy,) = stack.resources("aws_sns_topic_policy").values()
    statements = _statements(stack, policy["policy"])
    assert any(
        s["effect"] == "Deny" and s["condition"][0]["variable"] == "aws:SecureTransport" for s in statements
    )


# ---------- functions ----------


@pytest.mark.parametrize(("construct", "name"), FUNCTIONS.items())
def test_functions_are_traced_private_reserved_and_encrypted(stack, construct, name):
    fn = stack.by_path("aws_lambda_function", f"{construct}/Function")
    assert fn["function_name"] == name
    assert fn["runtime"] == "python3.12"
    assert fn["tracing_config"] == {"mode": "Active"}
    assert len(fn["vpc_config"]["subnet_ids"]) == 2
    assert fn["reserved_concurrent_executions"] >= 1
    assert fn["kms_key_arn"].startswith("${aws_kms_key.")
    assert "filename" not in fn
    code_object = stack.by_path("aws_s3_object", f"{construct}/CodeObject")
    assert fn["source_code_hash"] == code_object["source"].split("/")[-2] == code_object["source_hash"]
    log_group = stack.by_path("aws_cloudwatch_log_group", f"{construct}/LogGroup")
    assert log_group["name"] == f"/aws/lambda/{name}"
    assert log_group["retention_in_days"] == 365
    assert log_group["kms_key_id"].startswith("${aws_kms_key.")


@pytest.mark.parametrize(("construct", "name"), FUNCTIONS.items())
def test_functions_run_only_code_signed_by_the_stacks_profile(stack, construct, name):
    fn = stack.by_path("aws_lambda_function", f"{construct}/Function")
    job_id = stack.logical_id("aws_signer_signing_job", f"{construct}/SigningJob")
    assert fn["s3_bucket"] == f"${{aws_signer_signing_job.{job_id}.signed_object[0].s3[0].bucket}}"
    assert fn["s3_key"] == f"${{aws_signer_signing_job.{job_id}.signed_object[0].s3[0].key}}"
    assert fn["code_signing_config_arn"] == stack.ref(
        "aws_lambda_code_signing_config", "CodeSigning/Config", "arn"
    )
    job = stack.by_path("aws_signer_signing_job", f"{construct}/SigningJob")
    profile_name = stack.ref("aws_signer_signing_profile", "CodeSigning/Profile", "name")
    assert job["profile_name"] == profile_name
    object_id = stack.logical_id("aws_s3_object", f"{construct}/CodeObject")
    assert job["source"]["s3"]["version"] == f"${{aws_s3_object.{object_id}.version_id}}"
    assert job["destination"]["s3"]["prefix"] == f"signed/{name}/"
    code_object = stack.by_path("aws_s3_object", f"{construct}/CodeObject")
    artifacts = stack.ref("aws_s3_bucket", "CodeSigning/ArtifactBucket", "id")
    assert code_object["bucket"] == job["destination"]["s3"]["bucket"] == artifacts
    assert code_object["key"].startswith(f"unsigned/{name}/")
    assert code_object["kms_key_id"].startswith("${aws_kms_key.")
    versioning = stack.logical_id("aws_s3_bucket_versioning", "CodeSigning/ArtifactBucketVersioning")
    assert f"aws_s3_bucket_versioning.{versioning}" in code_object["depends_on"]


def test_code_signing_config_enforces_the_one_profile(stack):
    (config,) = stack.resources("aws_lambda_code_signing_config").values()
    assert config["policies"] == {"untrusted_artifact_on_deployment": "Enforce"}
    profile_arn = stack.ref("aws_signer_signing_profile", "CodeSigning/Profile", "version_arn")
    assert config["allowed_publishers"] == {"signing_profile_version_arns": [profile_arn]}
    (profile,) = stack.resources("aws_signer_signing_profile").values()
    assert profile["platform_id"] == "AWSLambda-SHA384-ECDSA"
    assert profile["name_prefix"] == "transaction_processing_dev_"
    assert profile["signature_validity_period"] == {"type": "MONTHS", "value": 12}


def test_artifact_bucket_is_private_encrypted_tls_only_and_access_logged(stack):
    bucket = stack.by_path("aws_s3_bucket", "CodeSigning/ArtifactBucket")
    assert bucket["bucket"] == "transaction-processing-artifacts-dev"
    ref = stack.ref("aws_s3_bucket", "CodeSigning/ArtifactBucket", "id")

    def configuring(kind):
        (found,) = [r for r in stack.resources(kind).values() if r["bucket"] == ref]
        return found

    assert configuring("aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    encryption = configuring("aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    block = configuring("aws_s3_bucket_public_access_block")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert (
        configuring("aws_s3_bucket_ownership_controls")["rule"]["object_ownership"] == "BucketOwnerEnforced"
    )
    assert configuring("aws_s3_bucket_notification")["eventbridge"] is True
    logging = configuring("aws_s3_bucket_logging")
    assert logging["target_bucket"] == "transaction-processing-access-logs-dev"
    assert logging["target_prefix"] == "transaction-processing-artifacts-dev/"
    (deny,) = _statements(stack, configuring("aws_s3_bucket_policy")["policy"])
    assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"


def test_function_environments_are_exactly_what_the_handlers_read(stack):
    from card_transactions.handlers.runtime_settings import (
        FailedTransactionSettings,
        FraudDetectionSettings,
        ReconcilerSettings,
        ValidationSettings,
    )

    powertools = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "ENVIRONMENT",
    }
    for construct, settings in (
        ("ValidationFunction", ValidationSettings),
        ("FraudDetectionFunction", FraudDetectionSettings),
        ("FailedTransactionFunction", FailedTransactionSettings),
        ("ReconcilerFunction", ReconcilerSettings),
    ):
        variables = stack.by_path("aws_lambda_function", f"{construct}/Function")["environment"]["variables"]
        assert set(variables) - powertools == set(settings.ENV_VARS), construct


def test_seed_environment_variable_names_are_kept(stack):
    env = {
        c: stack.by_path("aws_lambda_function", f"{c}/Function")["environment"]["variables"]
        for c in FUNCTIONS
    }
    assert "MERCHANT_TABLE_NAME" in env["ValidationFunction"]
    for construct in ("FraudDetectionFunction", "FailedTransactionFunction"):
        assert "TRANSACTION_TABLE_NAME" in env[construct]
    assert not any("SNS_TOPIC_ARN" in variables for variables in env.values())  # no function publishes
    assert not any("QUEUE_URL" in variables for variables in env.values())  # nor sends: the stream does


# Every function: its own log group, X-Ray, and the network interfaces Lambda manages in the VPC.
PLATFORM_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DescribeNetworkInterfaces",
}
# The only actions AWS does not let a policy scope to a resource.
UNSCOPABLE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ec2:DescribeNetworkInterfaces"}
EXPECTED_ACTIONS = {
    "ValidationFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",  # its failed asynchronous invocations only
        "kms:Decrypt",
        "kms:GenerateDataKey",
    },
    "FraudDetectionFunction": {
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    },
    "FailedTransactionFunction": {
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    },
    "ReconcilerFunction": {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    },
}


@pytest.mark.parametrize("construct", FUNCTIONS)
def test_no_function_sends_to_the_transactions_queue_and_consumers_only_receive_and_delete(stack, construct):
    """The queue is fed from the table's stream; a function's one send is Lambda's, of its own failed
    asynchronous invocations; the event source mappings need only receive, delete and the attributes."""
    policy = stack.by_path("aws_iam_role_policy", f"{construct}/RolePolicy")
    queues = {
        stack.ref("aws_sqs_queue", f"Queues/{queue}/Queue", "arn"): queue
        for queue in ("TransactionQueue", "DeadLetterQueue", "AsyncFailureQueue")
    }
    granted = {
        (action, queues[resource])
        for s in _statements(stack, policy["policy"])
        for action in s["actions"]
        if action.startswith("sqs:")
        for resource in s["resources"]
    }
    consumed = {"FraudDetectionFunction": "TransactionQueue", "FailedTransactionFunction": "DeadLetterQueue"}
    expected = {("sqs:SendMessage", "AsyncFailureQueue")}
    if construct in consumed:
        actions = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
        expected |= {(action, consumed[construct]) for action in actions}
    assert granted == expected


@pytest.mark.parametrize("construct", FUNCTIONS)
def test_each_role_has_exactly_its_actions_on_exact_resources(stack, construct):
    policy = stack.by_path("aws_iam_role_policy", f"{construct}/RolePolicy")
    statements = _statements(stack, policy["policy"])
    actions = {a for s in statements for a in s["actions"]}
    assert actions == EXPECTED_ACTIONS[construct] | PLATFORM_ACTIONS
    for statement in statements:
        assert statement["effect"] == "Allow"
        assert all("*" not in action for action in statement["actions"])
        if set(statement["actions"]) <= UNSCOPABLE_ACTIONS:
            assert statement["resources"] == ["*"]
        else:
            assert all(r.startswith(("${", "arn:${")) and r != "*" for r in statement["resources"])


def test_no_policy_grants_a_wildcard_action(stack, backend_stack):
    for s in (stack, backend_stack):
        for doc in s.data("aws_iam_policy_document").values():
            for statement in doc["statement"]:
                if statement["effect"] == "Allow":
                    assert "*" not in statement["actions"]
                    assert not any(a.endswith(":*") for a in statement["actions"])


def test_roles_can_be_assumed_only_by_their_service_for_this_account(stack):
    for role in stack.resources("aws_iam_role").values():
        (statement,) = _statements(stack, role["assume_role_policy"])
        assert statement["principals"][0]["type"] == "Service"
        assert statement["condition"][0]["variable"] == "aws:SourceAccount"


def test_queues_trigger_their_consumers_with_partial_batch_failures(stack):
    mappings = {
        m["//"]["metadata"]["path"].rsplit("/", 1)[1]: m
        for m in stack.resources("aws_lambda_event_source_mapping").values()
    }
    fraud = mappings["TransactionQueueMapping"]
    failed = mappings["DeadLetterQueueMapping"]
    assert fraud["event_source_arn"] == stack.ref("aws_sqs_queue", "Queues/TransactionQueue/Queue", "arn")
    assert failed["event_source_arn"] == stack.ref("aws_sqs_queue", "Queues/DeadLetterQueue/Queue", "arn")
    for mapping in (fraud, failed):
        assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
        assert mapping["batch_size"] == 10
    assert fraud["scaling_config"] == {"maximum_concurrency": 20}
    assert fraud["maximum_batching_window_in_seconds"] == 1
    assert failed["maximum_batching_window_in_seconds"] == 0


def test_no_provisioned_concurrency_by_default(stack):
    assert not stack.resources("aws_lambda_provisioned_concurrency_config")
    assert not stack.resources("aws_lambda_alias")


def test_provisioned_concurrency_puts_the_api_on_a_live_alias(tmp_path):
    build_app(Settings(validation_provisioned_concurrency=3), outdir=str(tmp_path)).synth()
    stack = Stack.load(tmp_path, TRANSACTION_STACK)
    (config,) = stack.resources("aws_lambda_provisioned_concurrency_config").values()
    (alias,) = stack.resources("aws_lambda_alias").values()
    assert config["provisioned_concurrent_executions"] == 3
    assert stack.by_path("aws_lambda_function", "ValidationFunction/Function")["publish"] is True
    alias_ref = stack.ref("aws_lambda_alias", "ValidationFunction/LiveAlias", "invoke_arn")
    assert {i["uri"] for i in stack.resources("aws_api_gateway_integration").values()} == {alias_ref}
    alias_name = stack.ref("aws_lambda_alias", "ValidationFunction/LiveAlias", "name")
    assert alias["name"] == "live"
    assert {p["qualifier"] for p in stack.resources("aws_lambda_permission").values()} == {alias_name}


# ---------- API ----------


def test_every_method_requires_an_api_key_and_a_validator(stack):
    methods = stack.resources("aws_api_gateway_method").values()
    assert {m["http_method"] for m in methods} == {"POST", "GET"}
    for method in methods:
        assert method["api_key_required"] is True
        assert method["request_validator_id"].startswith("${aws_api_gateway_request_validator.")


def test_no_validator_checks_bodies_whose_messages_would_quote_request_values(stack):
    # The validation function checks the body against the same schema (handlers.domain.transaction).
    validators = stack.resources("aws_api_gateway_request_validator").values()
    assert validators and all(v["validate_request_body"] is False for v in validators)


def test_post_body_model_is_the_handlers_json_schema(stack):
    (model,) = stack.resources("aws_api_gateway_model").values()
    assert json.loads(model["schema"]) == load_transaction_schema()
    post = stack.by_path("aws_api_gateway_method", "Api/PostTransaction")
    assert post["request_models"] == {
        "application/json": stack.ref("aws_api_gateway_model", "Api/TransactionModel", "name")
    }


def test_model_schema_is_written_as_the_provider_normalizes_it(stack):
    # API Gateway returns the schema verbatim: in any other spelling each refresh would report it changed
    # and replace the deployment, whose trigger hashes it (tests/terraform re-plans after an apply).
    (model,) = stack.resources("aws_api_gateway_model").values()
    assert model["schema"] == provider_normalized_json(load_transaction_schema())
    assert "\\u003e" in model["schema"] and ">" not in model["schema"]


def test_provider_normalized_json_matches_gos_encoding():
    value = {"b": "x > 0 & <y>", "a": [1, 2.5, "é\u2028"]}
    assert (
        provider_normalized_json(value)
        == '{"a":[1,2.5,"é\\u2028"],"b":"x \\u003e 0 \\u0026 \\u003cy\\u003e"}'
    )


def test_integrations_are_lambda_proxies_to_the_validation_function(stack):
    target = stack.ref("aws_lambda_function", "ValidationFunction/Function", "invoke_arn")
    for integration in stack.resources("aws_api_gateway_integration").values():
        assert (integration["type"], integration["integration_http_method"]) == ("AWS_PROXY", "POST")
        assert integration["uri"] == target


def test_lambda_permissions_are_scoped_to_this_api(stack):
    execution_arn = stack.ref("aws_api_gateway_rest_api", "Api/RestApi", "execution_arn")
    for permission in stack.resources("aws_lambda_permission").values():
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["source_arn"].startswith(f"{execution_arn}/*/")


def test_stage_is_traced_with_json_access_logs_without_bodies(stack):
    (stage,) = stack.resources("aws_api_gateway_stage").values()
    assert stage["stage_name"] == "prod"
    assert stage["xray_tracing_enabled"] is True
    log_format = json.loads(stage["access_log_settings"]["format"])
    assert "requestId" in log_format and "status" in log_format
    assert not any("body" in value.lower() for value in log_format.values())
    (settings,) = stack.resources("aws_api_gateway_method_settings").values()
    assert settings["stage_name"] == stack.ref("aws_api_gateway_stage", "Api/Stage", "stage_name")
    assert settings["settings"]["metrics_enabled"] is True
    # ERROR: at INFO the execution log records each request's path (GET /transaction/<whatever was sent>)
    assert settings["settings"]["logging_level"] == "ERROR"
    assert settings["settings"]["data_trace_enabled"] is False


def test_every_gateway_error_has_the_apis_error_shape_and_redeploys(stack):
    responses = {r["response_type"]: r for r in stack.resources("aws_api_gateway_gateway_response").values()}
    assert set(responses) == {r.response_type for r in GATEWAY_RESPONSES}
    rest_api = stack.ref("aws_api_gateway_rest_api", "Api/RestApi", "id")
    for declared in GATEWAY_RESPONSES:
        response = responses[declared.response_type]
        assert response["rest_api_id"] == rest_api
        assert response.get("status_code") == (str(int(declared.status)) if declared.status else None)
        assert response["response_templates"] == {"application/json": declared.template()}
        assert response["response_parameters"] == declared.header_parameters()
    # a changed gateway response takes effect only with a new deployment
    (deployment,) = stack.resources("aws_api_gateway_deployment").values()
    for logical_id in stack.resources("aws_api_gateway_gateway_response"):
        assert f"aws_api_gateway_gateway_response.{logical_id}" in deployment["depends_on"]
        assert f"aws_api_gateway_gateway_response.{logical_id}.id" in deployment["triggers"]["redeployment"]


def test_validation_concurrency_serves_the_first_second_of_a_burst_within_the_latency_budget(stack):
    fn = stack.by_path("aws_lambda_function", "ValidationFunction/Function")
    (method_settings,) = stack.resources("aws_api_gateway_method_settings").values()
    rate = method_settings["settings"]["throttling_rate_limit"]
    burst = method_settings["settings"]["throttling_burst_limit"]
    # (rate + burst) requests in the first second, each holding an environment for up to 100 ms
    assert fn["reserved_concurrent_executions"] == (rate + burst) * 100 // 1000 == 150
    assert Settings(validation_latency_budget_ms=250).validation.reserved_concurrency == 375
    assert Settings(validation_reserved_concurrency=40).validation.reserved_concurrency == 40


def test_a_throttled_validation_function_reaches_the_client_as_503_with_retry_after(stack):
    # Lambda's 429 on a proxy integration is API Gateway's INTEGRATION_FAILURE; any other 5xx retries too
    responses = {r["response_type"]: r for r in stack.resources("aws_api_gateway_gateway_response").values()}
    throttled = responses["INTEGRATION_FAILURE"]
    assert throttled["status_code"] == "503"
    assert json.loads(
        throttled["response_templates"]["application/json"].replace("$context.requestId", "r-1")
    ) == {
        "error": {
            "code": "SERVICE_UNAVAILABLE",
            "message": "The service is busy: retry with the same payload",
            "details": [],
            "request_id": "r-1",
        }
    }
    for response_type in ("INTEGRATION_FAILURE", "DEFAULT_5XX", "THROTTLED"):
        assert responses[response_type]["response_parameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_usage_plan_limits_and_no_key(stack):
    (plan,) = stack.resources("aws_api_gateway_usage_plan").values()
    assert plan["throttle_settings"] == {"rate_limit": 500, "burst_limit": 1000}
    assert plan["quota_settings"] == {"limit": 10_000, "period": "DAY"}
    assert plan["tags"] == {"ApiClient": "default"}  # how `python -m tools.clients` finds it
    assert stack.doc["output"]["api_usage_plan_ids"]["value"] == {
        "default": stack.ref("aws_api_gateway_usage_plan", "Clients/UsagePlan-default", "id")
    }


def _key_value_places(doc: dict) -> list[str]:
    """Everything in a synthesized stack that creates, reads or outputs an API key (or its value)."""
    found = [
        f"{kind} resource"
        for kind in ("aws_api_gateway_api_key", "aws_api_gateway_usage_plan_key")
        if doc.get("resource", {}).get(kind)
    ]
    found += [f"{kind} data source" for kind in doc.get("data", {}) if "api_key" in kind]
    text = json.dumps(doc)
    found += [
        f"reference {ref}" for ref in ("aws_api_gateway_api_key.", "include_values", ".value}") if ref in text
    ]
    return found


def test_no_key_value_is_created_read_or_output_by_terraform(stack, variant):
    for doc in (stack.doc, variant.doc):
        assert _key_value_places(doc) == []


def test_the_former_keys_are_forgotten_by_the_state_never_destroyed(synth_dir, tmp_path):
    # removed blocks in removed.tf beside cdk.tf.json (checkov cannot parse them in the JSON)
    written = (synth_dir / "stacks" / TRANSACTION_STACK / REMOVED_FILE).read_text()
    assert written == removed_tf(
        [
            f"aws_api_gateway_api_key.{cdktf_logical_id('Clients', 'Key-default')}",
            f"aws_api_gateway_usage_plan_key.{cdktf_logical_id('Clients', 'UsagePlanKey-default')}",
            *FORMER_ACCOUNT_ADDRESSES,
        ]
    )
    assert written.count("destroy = false") == 5
    assert "removed" not in Stack.load(synth_dir, TRANSACTION_STACK).doc
    app = build_app(VARIANT, outdir=str(tmp_path))
    (transaction_stack,) = [c for c in app.node.children if isinstance(c, TransactionStack)]
    assert transaction_stack.forgotten_addresses == [
        *(
            f"{kind}.{cdktf_logical_id('Clients', f'{prefix}-{name}')}"
            for name in ("acme", "globex")
            for kind, prefix in FORMER_KEY_RESOURCES
        ),
        *FORMER_ACCOUNT_ADDRESSES,
    ]


# The region's API Gateway logging setting and its role as the last release synthesized them: forgotten,
# never destroyed (provider 6 resets the region's setting when it destroys aws_api_gateway_account).
FORMER_ACCOUNT_ADDRESSES = (
    "aws_api_gateway_account.Api_Account_A18C9B29",
    "aws_iam_role.Api_CloudWatchRole_639D55FF",
    "aws_iam_role_policy.Api_CloudWatchRolePolicy_310BF1CF",
)


def test_the_former_account_setting_addresses_are_the_last_releases():
    release = json.loads(
        (
            Path(__file__).resolve().parents[2] / "releases/last/stacks" / TRANSACTION_STACK / "cdk.tf.json"
        ).read_text()
    )
    for address in FORMER_ACCOUNT_ADDRESSES:
        kind, name = address.split(".")
        assert name in release["resource"][kind], address


def test_the_former_key_addresses_are_the_ones_cdktf_gave_them():
    # as synthesized before keys left Terraform (construct ids Clients/Key-default, .../UsagePlanKey-default)
    assert cdktf_logical_id("Clients", "Key-default") == "Clients_Key-default_4DC98F04"
    assert cdktf_logical_id("Clients", "UsagePlanKey-default") == "Clients_UsagePlanKey-default_5E023139"


def test_each_client_has_its_own_usage_plan_and_the_function_reads_the_key_table(variant):
    stack = variant
    plans = {p["name"]: p for p in stack.resources("aws_api_gateway_usage_plan").values()}
    assert {name: p["tags"] for name, p in plans.items()} == {
        "transaction-api-dev-acme": {"ApiClient": "acme"},
        "transaction-api-dev-globex": {"ApiClient": "globex"},
    }
    assert plans["transaction-api-dev-acme"]["throttle_settings"] == {"rate_limit": 100, "burst_limit": 200}
    assert plans["transaction-api-dev-acme"]["quota_settings"] == {"limit": 5000, "period": "DAY"}
    assert plans["transaction-api-dev-globex"]["throttle_settings"] == {
        "rate_limit": 50,
        "burst_limit": 100,
    }
    # the validation function maps the calling key id to its client through the key table
    table = stack.by_path("aws_dynamodb_table", "ApiKeyTable/Table")
    assert (table["name"], table["hash_key"]) == ("api-keys-dev", "key_id")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
    function = stack.by_path("aws_lambda_function", "ValidationFunction/Function")
    variables = function["environment"]["variables"]
    assert variables["API_KEY_TABLE_NAME"] == "api-keys-dev"
    assert "API_CLIENT_KEY_IDS" not in variables
    assert variables["REQUIRE_MERCHANT_CLIENTS"] == "true"
    assert stack.doc["output"]["api_key_table_name"]["value"] == "api-keys-dev"


def test_waf_has_managed_rules_and_rate_limit_and_is_attached_and_logged(stack):
    (acl,) = stack.resources("aws_wafv2_web_acl").values()
    assert acl["scope"] == "REGIONAL"
    groups = [
        r["statement"]["managed_rule_group_statement"][0]
        for r in sorted(acl["rule"], key=lambda r: r["priority"])
        if "managed_rule_group_statement" in r["statement"]
    ]
    assert [g["name"] for g in groups] == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesCommonRuleSet",
    ]
    # a merchant's server on a cloud host is only counted, never blocked; Tor/VPN blocks stay
    overrides = {g["name"]: g.get("rule_action_override") for g in groups}
    assert overrides["AWSManagedRulesAnonymousIpList"] == [
        {"name": "HostingProviderIPList", "action_to_use": [{"count": [{}]}]}
    ]
    # server callers without a User-Agent pass; a large body reaches the function's one limit (413)
    assert overrides["AWSManagedRulesCommonRuleSet"] == [
        {"name": "NoUserAgent_HEADER", "action_to_use": [{"count": [{}]}]},
        {"name": "SizeRestrictions_BODY", "action_to_use": [{"count": [{}]}]},
    ]
    assert overrides["AWSManagedRulesKnownBadInputsRuleSet"] is None
    assert overrides["AWSManagedRulesAmazonIpReputationList"] is None
    (association,) = stack.resources("aws_wafv2_web_acl_association").values()
    assert association["resource_arn"] == stack.ref("aws_api_gateway_stage", "Api/Stage", "arn")
    (logging,) = stack.resources("aws_wafv2_web_acl_logging_configuration").values()
    assert logging["resource_arn"] == stack.ref("aws_wafv2_web_acl", "Firewall/WebAcl", "arn")


def _rate_rules(stack: Stack) -> dict[str, dict]:
    (acl,) = stack.resources("aws_wafv2_web_acl").values()
    return {
        r["name"]: {
            **r["statement"]["rate_based_statement"][0],
            "action": r["action"],
            "priority": r["priority"],
        }
        for r in acl["rule"]
        if "rate_based_statement" in r["statement"]
    }


def test_waf_rate_limits_per_api_key_and_per_ip_let_the_usage_plan_rate_through(stack):
    rules = _rate_rules(stack)
    per_key, per_ip = rules["RateLimitPerApiKey"], rules["RateLimitPerIp"]
    assert per_key["aggregate_key_type"] == "CUSTOM_KEYS"
    assert per_key["custom_key"] == [
        {"header": [{"name": "x-api-key", "text_transformation": [{"priority": 0, "type": "NONE"}]}]}
    ]
    assert per_ip["aggregate_key_type"] == "IP"
    assert {per_key["priority"], per_ip["priority"]} == {0, 1}  # before the managed groups
    assert per_key["action"] == per_ip["action"] == {"block": {}}
    # a single client sending at the usage plan's rate for a whole window, after a full burst, passes
    window = per_key["evaluation_window_sec"]
    assert window == per_ip["evaluation_window_sec"] == 300
    (plan,) = stack.resources("aws_api_gateway_usage_plan").values()
    admitted = plan["throttle_settings"]["rate_limit"] * window + plan["throttle_settings"]["burst_limit"]
    assert per_key["limit"] > admitted
    assert per_ip["limit"] >= per_key["limit"]


def test_waf_settings_choose_groups_overrides_window_and_limits(variant):
    stack, settings = variant, VARIANT
    (acl,) = stack.resources("aws_wafv2_web_acl").values()
    statements = [r["statement"] for r in sorted(acl["rule"], key=lambda r: r["priority"])]
    groups = [s["managed_rule_group_statement"][0] for s in statements if "managed_rule_group_statement" in s]
    assert [g["name"] for g in groups] == list(settings.waf_managed_rule_groups)
    assert [o["name"] for o in groups[1]["rule_action_override"]] == [
        "HostingProviderIPList",
        "AnonymousIPList",
    ]
    rules = _rate_rules(stack)
    # derived: the largest client's (rate x window + burst) x 1.25; per IP: every client's, summed
    assert rules["RateLimitPerApiKey"]["limit"] == (100 * 60 + 200) * 5 // 4 == 7750
    assert rules["RateLimitPerIp"]["limit"] == 7750 + (50 * 60 + 100) * 5 // 4
    assert {r["evaluation_window_sec"] for r in rules.values()} == {60}


def test_waf_common_rule_set_relaxations_follow_their_settings():
    group = "AWSManagedRulesCommonRuleSet"
    assert Settings(waf_count_no_user_agent=False).resolved_waf_rule_action_overrides == (
        "AWSManagedRulesAnonymousIpList:HostingProviderIPList=count",
        f"{group}:SizeRestrictions_BODY=count",
    )
    # an explicit override of the same rule wins; a stack without the group gets neither
    explicit = Settings(waf_rule_action_overrides=(f"{group}:NoUserAgent_HEADER=block",))
    assert explicit.resolved_waf_rule_action_overrides == (
        f"{group}:NoUserAgent_HEADER=block",
        f"{group}:SizeRestrictions_BODY=count",
    )
    assert VARIANT.resolved_waf_rule_action_overrides == VARIANT.waf_rule_action_overrides


def test_waf_limits_can_be_set(tmp_path):
    settings = Settings(waf_key_rate_limit=50_000, waf_ip_rate_limit=1_000_000)
    assert (settings.resolved_waf_key_rate_limit, settings.resolved_waf_ip_rate_limit) == (50_000, 1_000_000)


# ---------- monitoring ----------


def test_error_rate_alarms_use_metric_math_over_ten_minutes(stack):
    topic = stack.ref("aws_sns_topic", "Alerts/Topic", "arn")
    alarms = {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}
    for name in FUNCTIONS.values():
        alarm = alarms[f"{name}-error-rate"]
        assert alarm["threshold"] == 1
        (expression,) = [q for q in alarm["metric_query"] if q.get("return_data")]
        assert "errors / invocations" in expression["expression"]
        periods = {q["metric"]["period"] for q in alarm["metric_query"] if "metric" in q}
        assert periods == {600}
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == alarm["ok_actions"] == [topic]
        assert alarm["actions_enabled"] is True
    assert {
        "transaction-dlq-dev-not-empty",
        "lambda-async-failures-dev-not-empty",
        "transaction-queue-dev-oldest-message-age",
        "transaction-api-dev-5xx-rate",
    } <= set(alarms)


def test_dashboard_shows_lambda_and_sqs_metrics(stack):
    (dashboard,) = stack.resources("aws_cloudwatch_dashboard").values()
    body = json.loads(dashboard["dashboard_body"])
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {"Invocations", "Errors", "Duration", "ApproximateNumberOfMessagesVisible"} <= metrics


# ---------- state and outputs ----------


def test_main_stack_uses_the_encrypted_locked_s3_backend(stack):
    backend = stack.doc["terraform"]["backend"]["s3"]
    assert backend["encrypt"] is True
    assert backend["use_lockfile"] is True
    assert backend["bucket"] == "transaction-processing-tfstate-dev"
    assert backend["dynamodb_table"] == "transaction-processing-tflock-dev"


def test_outputs_keep_their_names(stack):
    """docs/differences.md: the original README's nine outputs are still there, under the same names."""
    assert {
        "api_endpoint",
        "dashboard_url",
        "merchant_table_name",
        "transaction_table_name",
        "queue_url",
        "sns_topic_arn",
        "validation_lambda_arn",
        "fraud_detection_lambda_arn",
        "failed_transaction_lambda_arn",
    } <= set(stack.doc["output"])


# ---------- custom domain (TLS 1.2+) and the account-level CloudWatch role ----------


def test_without_a_custom_domain_the_default_endpoint_stays(stack):
    (api,) = stack.resources("aws_api_gateway_rest_api").values()
    assert "disable_execute_api_endpoint" not in api
    assert not stack.resources("aws_api_gateway_domain_name")
    assert stack.doc["output"]["api_endpoint"]["value"].endswith("invoke_url}/transaction")
    assert "api_domain_regional_target" not in stack.doc["output"]


def test_the_environment_never_touches_the_regions_api_gateway_logging_role(stack):
    # one setting per account and region, for every API there: the bootstrap stack's
    assert not stack.resources("aws_api_gateway_account")
    assert not [r for r in stack.resources("aws_iam_role").values() if "apigw" in r["name"]]


def test_a_custom_domain_is_tls_1_2_only_and_closes_the_default_endpoint(variant):
    stack, settings = variant, VARIANT
    (api,) = stack.resources("aws_api_gateway_rest_api").values()
    assert api["disable_execute_api_endpoint"] is True
    (domain,) = stack.resources("aws_api_gateway_domain_name").values()
    assert domain["domain_name"] == "api.payments.example.com"
    assert domain["security_policy"] == "TLS_1_2"
    assert domain["regional_certificate_arn"] == settings.api_certificate_arn
    assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}
    (mapping,) = stack.resources("aws_api_gateway_base_path_mapping").values()
    assert mapping["api_id"] == stack.ref("aws_api_gateway_rest_api", "Api/RestApi", "id")
    assert mapping["stage_name"] == stack.ref("aws_api_gateway_stage", "Api/Stage", "stage_name")
    (record,) = stack.resources("aws_route53_record").values()
    domain_ref = "aws_api_gateway_domain_name." + stack.logical_id(
        "aws_api_gateway_domain_name", "Api/DomainName"
    )
    assert (record["zone_id"], record["type"]) == ("Z0123456789ABCDEFGHIJ", "A")
    assert record["alias"] == {
        "name": f"${{{domain_ref}.regional_domain_name}}",
        "zone_id": f"${{{domain_ref}.regional_zone_id}}",
        "evaluate_target_health": False,
    }
    assert stack.doc["output"]["api_endpoint"]["value"] == "https://api.payments.example.com/transaction"
    # where to point the domain's CNAME (or alias) when the stack does not manage the record
    outputs = stack.doc["output"]
    assert outputs["api_domain_regional_target"]["value"] == f"${{{domain_ref}.regional_domain_name}}"
    assert outputs["api_domain_regional_zone_id"]["value"] == f"${{{domain_ref}.regional_zone_id}}"
    # the region's X-Ray encryption setting is left alone
    assert not stack.resources("aws_xray_encryption_config")


def test_an_account_whose_api_gateway_logging_is_managed_elsewhere_gets_no_logging_role(variant_dir):
    backend = Stack.load(variant_dir, STATE_BACKEND_STACK)
    assert not backend.resources("aws_api_gateway_account")
    assert not backend.resources("aws_iam_role")
    assert "api_gateway_logging_role_arn" not in backend.doc["output"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"api_certificate_arn": "arn:aws:acm:us-east-2:123456789012:certificate/abc"},
            "API_CERTIFICATE_ARN",
        ),
        ({"api_domain_name": "api.example.com"}, "API_CERTIFICATE_ARN"),
        ({"api_hosted_zone_id": "Z123"}, "API_HOSTED_ZONE_ID"),
        ({"api_tls_security_policy": "TLS_1_0"}, "API_TLS_SECURITY_POLICY"),
    ],
)
def test_custom_domain_settings_are_checked_together(settings, message):
    with pytest.raises(ValueError, match=message):
        Settings(**settings)
