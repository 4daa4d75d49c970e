"""The bootstrap stack creates a state bucket, an access-log bucket and a lock table, all locked down."""

import pytest

BUCKETS = {
    "StateBucket": "transaction-processing-tfstate-dev",
    "AccessLogBucket": "transaction-processing-access-logs-dev",
}


def _for_bucket(stack, kind, bucket_id):
    """The one ``kind`` resource configuring bucket ``bucket_id``."""
    ref = f"${{aws_s3_bucket.{bucket_id}.id}}"
    (found,) = [r for r in stack.resources(kind).values() if r["bucket"] == ref]
    return found


def test_backend_stack_keeps_its_own_state_locally_per_environment_outside_cdktf_out(backend_stack):
    path = backend_stack.doc["terraform"]["backend"]["local"]["path"]
    # relative to cdktf.out/stacks/state-backend/: the repository root, which `make clean` keeps
    assert path == "../../../terraform.state-backend-dev.tfstate"


def test_the_stack_has_exactly_the_state_and_access_log_buckets(backend_stack):
    buckets = backend_stack.resources("aws_s3_bucket")
    assert {k: b["bucket"] for k, b in buckets.items()} == BUCKETS
    assert all(b["force_destroy"] is False for b in buckets.values())


@pytest.mark.parametrize("bucket_id", BUCKETS)
def test_bucket_is_versioned_encrypted_private_owner_enforced(backend_stack, bucket_id):
    versioning = _for_bucket(backend_stack, "aws_s3_bucket_versioning", bucket_id)
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    encryption = _for_bucket(backend_stack, "aws_s3_bucket_server_side_encryption_configuration", bucket_id)
    (rule,) = encryption["rule"]
    default = rule["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith("${aws_kms_key.")
    assert rule["bucket_key_enabled"] is True
    block = _for_bucket(backend_stack, "aws_s3_bucket_public_access_block", bucket_id)
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    ownership = _for_bucket(backend_stack, "aws_s3_bucket_ownership_controls", bucket_id)
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    notification = _for_bucket(backend_stack, "aws_s3_bucket_notification", bucket_id)
    assert notification["eventbridge"] is True
    lifecycle = _for_bucket(backend_stack, "aws_s3_bucket_lifecycle_configuration", bucket_id)
    (rule,) = lifecycle["rule"]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] >= 30


@pytest.mark.parametrize("bucket_id", BUCKETS)
def test_bucket_denies_insecure_transport(backend_stack, bucket_id):
    policy = _for_bucket(backend_stack, "aws_s3_bucket_policy", bucket_id)
    statements = backend_stack.policy_document(policy["policy"])["statement"]
    deny = statements[0]
    assert deny["effect"] == "Deny"
    assert deny["condition"][0]["variable"] == "aws:SecureTransport"
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]


def test_state_bucket_access_is_logged_to_the_access_log_bucket(backend_stack):
    (logging,) = backend_stack.resources("aws_s3_bucket_logging").values()
    assert logging["bucket"] == "${aws_s3_bucket.StateBucket.id}"
    assert logging["target_bucket"] == BUCKETS["AccessLogBucket"]
    assert logging["target_prefix"] == f"{BUCKETS['StateBucket']}/"
    assert logging["depends_on"] == ["aws_s3_bucket_policy.AccessLogBucketPolicy"]


def test_access_log_bucket_accepts_only_s3_log_delivery_of_our_buckets(backend_stack):
    policy = _for_bucket(backend_stack, "aws_s3_bucket_policy", "AccessLogBucket")
    _, delivery, *_ = backend_stack.policy_document(policy["policy"])["statement"]
    assert delivery["effect"] == "Allow" and delivery["actions"] == ["s3:PutObject"]
    assert delivery["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    sources = ("transaction-processing-tfstate-dev", "transaction-processing-artifacts-dev")
    assert delivery["resources"] == [
        f"arn:${{data.aws_partition.Partition.partition}}:s3:::{BUCKETS['AccessLogBucket']}/{s}/*"
        for s in sources
    ]
    conditions = {c["variable"]: c for c in delivery["condition"]}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceArn"]["values"] == [
        f"arn:${{data.aws_partition.Partition.partition}}:s3:::{s}" for s in sources
    ]
    lifecycle = _for_bucket(backend_stack, "aws_s3_bucket_lifecycle_configuration", "AccessLogBucket")
    assert lifecycle["rule"][0]["expiration"] == [{"days": 365}]


def test_key_lets_s3_log_delivery_encrypt_for_this_account_only(backend_stack):
    (key,) = backend_stack.resources("aws_kms_key").values()
    statements = {s["sid"]: s for s in backend_stack.policy_document(key["policy"])["statement"]}
    delivery = statements["S3AccessLogDelivery"]
    assert delivery["actions"] == ["kms:GenerateDataKey"]
    assert delivery["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    assert delivery["condition"][0]["variable"] == "aws:SourceAccount"


def test_lock_table_is_encrypted_and_recoverable(backend_stack):
    (table,) = backend_stack.resources("aws_dynamodb_table").values()
    assert table["hash_key"] == "LockID"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")


# ---------- the region's API Gateway logging role, for every API of the account ----------


def _logging_role_policy(stack):
    from tests.infra.policy_eval import Resolver

    policy = stack.by_path("aws_iam_role_policy", "ApiGatewayLogging/RolePolicy")
    return Resolver(stack).statements(policy["policy"])


def test_bootstrap_sets_the_regions_api_gateway_logging_role(backend_stack):
    (setting,) = backend_stack.resources("aws_api_gateway_account").values()
    role = backend_stack.by_path("aws_iam_role", "ApiGatewayLogging/Role")
    assert setting["cloudwatch_role_arn"] == backend_stack.ref(
        "aws_iam_role", "ApiGatewayLogging/Role", "arn"
    )
    assert role["name"] == "transaction-processing-apigateway-logs-us-east-2"  # one per account and region
    trust = backend_stack.policy_document(role["assume_role_policy"])["statement"]
    assert [s["principals"] for s in trust] == [
        [{"type": "Service", "identifiers": ["apigateway.amazonaws.com"]}]
    ]
    assert "api_gateway_logging_role_arn" in backend_stack.doc["output"]


@pytest.mark.parametrize(
    ("group", "allowed"),
    [
        ("API-Gateway-Execution-Logs_a1b2c3/prod", True),  # this environment's API
        ("API-Gateway-Execution-Logs_z9y8x7/staging", True),  # a second environment's, same account
        ("/aws/apigateway/transaction-api-prod/access", True),
        ("/aws/apigateway/another-teams-api/access", True),
        ("/aws/lambda/validation-lambda-dev", False),  # not API Gateway's
        ("aws-waf-logs-transaction-api-waf-dev", False),
    ],
)
def test_every_apis_execution_and_access_logs_are_writable_and_nothing_else(backend_stack, group, allowed):
    from tests.infra.policy_eval import ALLOW, Request, ResourcePolicies, decide

    role = "arn:aws:iam::123456789012:role/transaction-processing-apigateway-logs-us-east-2"
    identity = _logging_role_policy(backend_stack)
    for action, suffix in (("logs:CreateLogStream", ":log-stream:s"), ("logs:PutLogEvents", ":log-stream:s")):
        resource = f"arn:aws:logs:us-east-2:123456789012:log-group:{group}{suffix}"
        decision, _ = decide(
            Request(role, action, resource),
            identity=identity,
            resource_policies=ResourcePolicies(),
            region="us-east-2",
        )
        assert (decision == ALLOW) is allowed, (action, group)
