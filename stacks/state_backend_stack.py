"""Bootstrap stack (local state): the bucket and lock table holding the main stack's state, and the
bucket receiving every bucket's S3 server access logs."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from card_transactions.stacks.config import Settings
from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.api_gateway_logging import ApiGatewayLogging
from card_transactions.stacks.constructs.buckets import (
    SecureBucket,
    allow_access_log_delivery,
    only_log_delivery_writes,
    require_kms_key,
)
from card_transactions.stacks.constructs.encryption import EncryptionKey
from card_transactions.stacks.constructs.policy import apply_permissions_boundary
from card_transactions.stacks.transaction_stack import default_tags

NONCURRENT_STATE_VERSIONS_DAYS = 90
NONCURRENT_LOG_VERSIONS_DAYS = 30


class StateBackendStack(TerraformStack):
    """Creates the remote state of the main stack. Apply it once per account and environment.

    Default settings: both buckets are ``SecureBucket``-s (versioned, SSE-KMS with a customer-managed
    key and bucket key, public access fully blocked, owner-enforced, TLS only, object events to
    EventBridge). The state bucket keeps old state versions 90 days and logs its accesses to the
    access-log bucket; the access-log bucket accepts writes only from S3 log delivery for this
    account's state and artifact buckets (each under its own prefix), refuses writes from every IAM
    principal and deletes of objects and versions from everyone, and keeps logs
    ``log_retention_days`` (>= 365, PCI DSS 10.5.1). The lock table is on-demand with PITR and the
    same key. Its own state is local, one file per environment at the repository root
    (``terraform.state-backend-<env>.tfstate``, outside ``cdktf.out/`` so ``make clean`` cannot delete
    it): commit it nowhere (``.gitignore``), back it up with your team's secrets.

    With ``MANAGE_API_GATEWAY_ACCOUNT`` (default), it also sets the region's API Gateway logging role
    (``ApiGatewayLogging``), shared by every API of the account and region: in an account holding
    several environments, only one environment's file keeps it on.
    """

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        s = settings
        # Relative to the stack's working directory cdktf.out/stacks/<id>/: the repository root.
        LocalBackend(self, path=f"../../../terraform.{id_}-{s.environment_suffix}.tfstate")
        AwsProvider(self, "aws", region=s.region, default_tags=default_tags(s))
        account = Account.of(self, s.region)
        key = EncryptionKey(
            self,
            "Encryption",
            alias=s.name(f"{s.project}-tfstate"),
            account=account,
            administrator=s.deploy_role_arn or None,
            s3_log_delivery_sources=[
                f"arn:{account.partition}:s3:::{b}" for b in (s.resolved_state_bucket, s.artifact_bucket)
            ],
            state_only=True,
        )
        access_logs = SecureBucket(
            self,
            "AccessLogBucket",
            name=s.access_log_bucket,
            kms_key_arn=key.arn,
            access_log_bucket=None,
            noncurrent_days=NONCURRENT_LOG_VERSIONS_DAYS,
            expire_days=s.log_retention_days,
            extra_statements=[
                allow_access_log_delivery(
                    f"arn:{account.partition}:s3:::{s.access_log_bucket}",
                    [s.resolved_state_bucket, s.artifact_bucket],
                    account,
                ),
                *only_log_delivery_writes(f"arn:{account.partition}:s3:::{s.access_log_bucket}"),
            ],
        )
        bucket = SecureBucket(
            self,
            "StateBucket",
            name=s.resolved_state_bucket,
            kms_key_arn=key.arn,
            access_log_bucket=access_logs,
            noncurrent_days=NONCURRENT_STATE_VERSIONS_DAYS,
            extra_statements=[
                require_kms_key(f"arn:{account.partition}:s3:::{s.resolved_state_bucket}", key.arn)
            ],
        ).bucket
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
        if s.manage_api_gateway_account:
            logging = ApiGatewayLogging(
                self, "ApiGatewayLogging", name=f"{s.project}-apigateway-logs-{s.region}", account=account
            )
            TerraformOutput(
                self,
                "api_gateway_logging_role_arn",
                value=logging.role.arn,
                description="The region's API Gateway CloudWatch Logs role (every API of the account)",
            )
        TerraformOutput(self, "state_bucket", value=bucket.bucket)
        TerraformOutput(self, "state_lock_table", value=lock_table.name)
        TerraformOutput(
            self,
            "state_kms_key_arn",
            value=key.arn,
            description="Set TF_STATE_KMS_KEY_ARN to this before `make deploy` of the main stack",
        )
        TerraformOutput(self, "access_log_bucket", value=access_logs.bucket.bucket)
        if s.permissions_boundary_arn:
            apply_permissions_boundary(self, s.permissions_boundary_arn)
