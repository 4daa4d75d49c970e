"""Bootstrap stack (local state): the S3 bucket and lock table that hold the main stack's state."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from stacks.config import Settings
from stacks.constructs.encryption import EncryptionKey
from stacks.constructs.policy import deny_insecure_transport, policy_document
from stacks.transaction_stack import default_tags

NONCURRENT_STATE_VERSIONS_DAYS = 90


class StateBackendStack(TerraformStack):
    """Creates the remote state of the main stack. Apply it once per account and environment.

    Default settings: the bucket is versioned (old state versions kept 90 days), encrypted with a
    customer-managed key (bucket key on), public access fully blocked, owner-enforced (no ACLs), and
    reachable only over TLS; the lock table is on-demand with PITR and the same key. Its own state is
    local (``terraform.state-backend.tfstate``): commit it nowhere, keep it with your team's secrets.
    """

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        s = settings
        LocalBackend(self, path=f"terraform.{id_}.tfstate")
        AwsProvider(self, "aws", region=s.region, default_tags=default_tags(s))
        account_id = DataAwsCallerIdentity(self, "Caller").account_id
        partition = DataAwsPartition(self, "Partition").partition
        key = EncryptionKey(
            self,
            "Encryption",
            alias=s.name(f"{s.project}-tfstate"),
            region=s.region,
            account_id=account_id,
            partition=partition,
        )
        bucket = S3Bucket(self, "StateBucket", bucket=s.resolved_state_bucket, force_destroy=False)
        S3BucketVersioningA(
            self,
            "StateBucketVersioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "StateBucketEncryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=key.arn
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketPublicAccessBlock(
            self,
            "StateBucketPublicAccessBlock",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "StateBucketOwnership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketLifecycleConfiguration(
            self,
            "StateBucketLifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-old-state-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1
                        )
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=NONCURRENT_STATE_VERSIONS_DAYS
                        )
                    ],
                )
            ],
        )
        tls_only = policy_document(
            self,
            "StateBucketPolicyDocument",
            [
                deny_insecure_transport(["s3:*"], [bucket.arn, f"{bucket.arn}/*"]),
            ],
        )
        S3BucketPolicy(self, "StateBucketPolicy", bucket=bucket.id, policy=tls_only.json)
        lock_table = DynamodbTable(
            self,
            "LockTable",
            name=s.resolved_state_lock_table,
            billing_mode="PAY_PER_REQUEST",
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=key.arn),
            deletion_protection_enabled=s.deletion_protection,
        )
        TerraformOutput(self, "state_bucket", value=bucket.bucket)
        TerraformOutput(self, "state_lock_table", value=lock_table.name)
        TerraformOutput(self, "state_kms_key_arn", value=key.arn)
