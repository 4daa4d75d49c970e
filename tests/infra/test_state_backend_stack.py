"""The bootstrap stack creates a state bucket and lock table that are locked down."""


def test_backend_stack_keeps_its_own_state_locally(backend_stack):
    assert "local" in backend_stack.doc["terraform"]["backend"]


def test_state_bucket_is_versioned_encrypted_private_owner_enforced(backend_stack):
    (bucket,) = backend_stack.resources("aws_s3_bucket").values()
    assert bucket["bucket"] == "transaction-processing-tfstate-dev"
    (versioning,) = backend_stack.resources("aws_s3_bucket_versioning").values()
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (encryption,) = backend_stack.resources("aws_s3_bucket_server_side_encryption_configuration").values()
    default = encryption["rule"][0]["apply_server_side_encryption_by_default"]
    assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith("${aws_kms_key.")
    (block,) = backend_stack.resources("aws_s3_bucket_public_access_block").values()
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    (ownership,) = backend_stack.resources("aws_s3_bucket_ownership_controls").values()
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_state_bucket_denies_insecure_transport(backend_stack):
    (policy,) = backend_stack.resources("aws_s3_bucket_policy").values()
    statements = backend_stack.policy_document(policy["policy"])["statement"]
    (deny,) = statements
    assert deny["effect"] == "Deny"
    assert deny["condition"][0]["variable"] == "aws:SecureTransport"


def test_lock_table_is_encrypted_and_recoverable(backend_stack):
    (table,) = backend_stack.resources("aws_dynamodb_table").values()
    assert table["hash_key"] == "LockID"
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.")
