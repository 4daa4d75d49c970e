"""A Python Lambda function from ``handlers/``: asset, role, log group, function, optional alias."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_provisioned_concurrency_config import LambdaProvisionedConcurrencyConfig
from constructs import Construct

from card_transactions.settings.model import Function
from card_transactions.stacks.bundling import PYTHON_RUNTIME, function_archive
from card_transactions.stacks.config import FunctionSizing
from card_transactions.stacks.constructs.account import Account
from card_transactions.stacks.constructs.code_signing import CodeSigning, SignedCode
from card_transactions.stacks.constructs.logs import encrypted_log_group
from card_transactions.stacks.constructs.policy import Statement, allow, policy_document, service_role

# X-Ray has no resource-level permissions: its upload actions take "*" (IAM ignores any other resource).
XRAY_UPLOAD_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def write_own_logs(log_group_arn: str) -> Statement:
    """Log streams and events of the function's own log group, nothing else (PCI DSS 10.3.2)."""
    return allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"])


def upload_traces() -> Statement:
    return allow("UploadTraces", XRAY_UPLOAD_ACTIONS, ["*"])


class FunctionNetwork(Protocol):
    """Where the functions run: a VPC's private subnets (``PrivateNetwork`` or ``ExistingNetwork``)."""

    subnet_ids: list[str]
    security_group_ids: list[str]

    def function_interface_permissions(self, account: Account) -> list[Statement]:
        """What a function's role needs to attach the function to these subnets."""
        ...

    def restrict_endpoints(self, callers: Sequence[tuple[str, Sequence[Statement]]]) -> None:
        """Endpoint policies naming each caller (role ARN, its permission statements)."""
        ...


@dataclass(frozen=True)
class FunctionPlatform:
    """What every function of a stack shares: where it runs, its key, logs, failure queue and signing."""

    account: Account
    architecture: str
    network: FunctionNetwork
    kms_key_arn: str
    retention_days: int
    async_failure_queue_arn: str
    code_signing: CodeSigning


class PythonFunction(Construct):
    """One function of the system, packaged from ``handlers/`` as a zip asset.

    Default settings:
      * runtime python3.12 on the configured architecture, X-Ray tracing Active, JSON log format;
      * deployed from the package signed by ``code_signing`` and bound to its enforcing
        code-signing config (Lambda rejects unsigned or altered code); ``source_code_hash`` is the
        package's content hash;
      * inside the private VPC with the Lambda security group;
      * reserved concurrency always set; provisioned concurrency on a ``live`` alias when > 0;
      * environment variables encrypted with the customer-managed key;
      * its own log group ``/aws/lambda/<name>`` (KMS, ``retention_days``) created before the function;
      * failed asynchronous invocations go to the async-failure queue;
      * its own role, assumable only by Lambda for this account, holding exactly ``permissions`` plus
        sending to the async-failure queue, using the key (environment, encrypted queues/tables),
        writing its own log group, uploading X-Ray traces and the network-interface actions Lambda
        needs in the VPC (``FunctionNetwork.function_interface_permissions``); no managed policy.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function: Function,
        function_name: str,
        description: str,
        sizing: FunctionSizing,
        environment: Mapping[str, str],
        permissions: Sequence[Statement],
        platform: FunctionPlatform,
    ) -> None:
        super().__init__(scope, id_)
        p = platform
        self.function_name = function_name
        self.asset = TerraformAsset(
            self,
            "Code",
            path=str(function_archive(function.entry_point, p.architecture)),
            type=AssetType.FILE,
        )
        code = p.code_signing.sign(self, function_name=function_name, asset=self.asset)
        role_policy = self._role(function_name, permissions, p)
        self._function(
            function,
            function_name=function_name,
            description=description,
            sizing=sizing,
            environment=environment,
            code=code,
            role_policy=role_policy,
            p=p,
        )
        self.arn = self.function.arn
        self.invoke_arn = self.function.invoke_arn
        self.qualifier: str | None = None
        if sizing.provisioned_concurrency > 0:
            self._live_alias(sizing.provisioned_concurrency)

    def _role(
        self, function_name: str, permissions: Sequence[Statement], p: FunctionPlatform
    ) -> IamRolePolicy:
        """The function's log group, and its role holding exactly its permissions."""
        self.log_group = encrypted_log_group(
            self,
            "LogGroup",
            name=f"/aws/lambda/{function_name}",
            kms_key_arn=p.kms_key_arn,
            retention_days=p.retention_days,
            card_data_partition=p.account.partition,
        )
        self.role = service_role(
            self,
            "Role",
            name=f"{function_name}-role",
            service="lambda.amazonaws.com",
            account_id=p.account.account_id,
            description=f"Execution role of {function_name}",
        )
        # Everything the role may do is here: no AWS managed policy (theirs carry "*" resources).
        self.permissions: list[Statement] = [
            *permissions,
            allow("SendFailedAsyncInvocations", ["sqs:SendMessage"], [p.async_failure_queue_arn]),
            allow("UseTransactionKey", ["kms:Decrypt", "kms:GenerateDataKey"], [p.kms_key_arn]),
            write_own_logs(self.log_group.arn),
            upload_traces(),
            *p.network.function_interface_permissions(p.account),
        ]
        self.policy_document = policy_document(self, "Permissions", self.permissions)
        return IamRolePolicy(
            self,
            "RolePolicy",
            name=f"{function_name}-permissions",
            role=self.role.id,
            policy=self.policy_document.json,
        )

    def _function(
        self,
        function: Function,
        *,
        function_name: str,
        description: str,
        sizing: FunctionSizing,
        environment: Mapping[str, str],
        code: SignedCode,
        role_policy: IamRolePolicy,
        p: FunctionPlatform,
    ) -> None:
        self.function = LambdaFunction(
            self,
            "Function",
            function_name=function_name,
            description=description,
            role=self.role.arn,
            runtime=PYTHON_RUNTIME,
            architectures=[p.architecture],
            handler=function.handler,
            s3_bucket=code.bucket,
            s3_key=code.key,
            source_code_hash=self.asset.asset_hash,
            code_signing_config_arn=p.code_signing.arn,
            memory_size=sizing.memory_mb,
            timeout=sizing.timeout_seconds,
            reserved_concurrent_executions=sizing.reserved_concurrency,
            publish=sizing.provisioned_concurrency > 0,
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=p.network.subnet_ids, security_group_ids=p.network.security_group_ids
            ),
            environment=LambdaFunctionEnvironment(variables=dict(environment)),
            kms_key_arn=p.kms_key_arn,
            dead_letter_config=LambdaFunctionDeadLetterConfig(target_arn=p.async_failure_queue_arn),
            logging_config=LambdaFunctionLoggingConfig(log_format="JSON", log_group=self.log_group.name),
            depends_on=[self.log_group, role_policy],
        )

    def _live_alias(self, provisioned_concurrency: int) -> None:
        """The ``live`` alias with provisioned concurrency: API Gateway invokes it."""
        alias = LambdaAlias(
            self,
            "LiveAlias",
            name="live",
            function_name=self.function.function_name,
            function_version=self.function.version,
        )
        LambdaProvisionedConcurrencyConfig(
            self,
            "ProvisionedConcurrency",
            function_name=self.function.function_name,
            qualifier=alias.name,
            provisioned_concurrent_executions=provisioned_concurrency,
        )
        self.invoke_arn = alias.invoke_arn
        self.qualifier = alias.name
