"""Lambda code signing: an artifacts bucket, an AWS Signer profile and an enforcing signing config."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_code_signing_config import (
    LambdaCodeSigningConfig,
    LambdaCodeSigningConfigAllowedPublishers,
    LambdaCodeSigningConfigPolicies,
)
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_aws.signer_signing_job import (
    SignerSigningJob,
    SignerSigningJobDestination,
    SignerSigningJobDestinationS3,
    SignerSigningJobSource,
    SignerSigningJobSourceS3,
)
from cdktf_cdktf_provider_aws.signer_signing_profile import (
    SignerSigningProfile,
    SignerSigningProfileSignatureValidityPeriod,
)
from constructs import Construct

from card_transactions.stacks.constructs.buckets import SecureBucket

# AWS Signer's platform for Lambda zip packages.
SIGNING_PLATFORM = "AWSLambda-SHA384-ECDSA"
SIGNATURE_VALIDITY_MONTHS = 12
# Old object versions only matter for a rollback right after a deploy.
NONCURRENT_ARTIFACT_DAYS = 30
# Terraform appends a 26-character unique suffix to a name prefix; profile names are at most 64.
_PROFILE_PREFIX_MAX = 38


@dataclass(frozen=True)
class SignedCode:
    """Where a function's signed deployment package is: pass these as ``s3_bucket`` / ``s3_key``."""

    bucket: str
    key: str


class CodeSigning(Construct):
    """Signs every deployment package with AWS Signer and makes Lambda refuse anything unsigned.

    Default settings:
      * the packages live in a ``SecureBucket`` created here (or, ``create_bucket=False``, in the
        existing versioned bucket ``bucket_name``) (versioned, which Signer requires; SSE-KMS with the
        stack's key; TLS only; public access blocked; owner-enforced; access-logged to
        ``access_log_bucket``; object events to EventBridge); unsigned packages under ``unsigned/``,
        signed ones under ``signed/``;
      * one signing profile on ``AWSLambda-SHA384-ECDSA``, signatures valid 12 months, named from
        ``name`` with a unique suffix (a cancelled profile's name can never be reused);
      * a code-signing config that allows only that profile and ``Enforce``-s it: Lambda rejects a
        package that is unsigned, signed by another profile, or altered after signing;
      * ``sign()`` uploads a package (KMS-encrypted with the stack's key, keyed by its content hash)
        and starts one signing job per package version.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        bucket_name: str,
        kms_key_arn: str,
        access_log_bucket: str,
        create_bucket: bool = True,
    ) -> None:
        super().__init__(scope, id_)
        self.kms_key_arn = kms_key_arn
        self.artifacts: SecureBucket | None = None
        self.bucket = bucket_name  # brought: it must be versioned, Signer signs only versioned objects
        self._versioned: list[ITerraformDependable] = []
        if create_bucket:
            self.artifacts = SecureBucket(
                self,
                "ArtifactBucket",
                name=bucket_name,
                kms_key_arn=kms_key_arn,
                access_log_bucket=access_log_bucket,
                noncurrent_days=NONCURRENT_ARTIFACT_DAYS,
            )
            self.bucket, self._versioned = self.artifacts.id, [self.artifacts.versioning]
        prefix = re.sub(r"[^A-Za-z0-9]", "_", name)[: _PROFILE_PREFIX_MAX - 1] + "_"
        self.profile = SignerSigningProfile(
            self,
            "Profile",
            name_prefix=prefix,
            platform_id=SIGNING_PLATFORM,
            signature_validity_period=SignerSigningProfileSignatureValidityPeriod(
                type="MONTHS", value=SIGNATURE_VALIDITY_MONTHS
            ),
        )
        self.config = LambdaCodeSigningConfig(
            self,
            "Config",
            description=f"{name}: only packages signed by this stack's signing profile",
            allowed_publishers=LambdaCodeSigningConfigAllowedPublishers(
                signing_profile_version_arns=[self.profile.version_arn]
            ),
            policies=LambdaCodeSigningConfigPolicies(untrusted_artifact_on_deployment="Enforce"),
        )
        self.arn = self.config.arn

    def sign(self, scope: Construct, *, function_name: str, asset: TerraformAsset) -> SignedCode:
        """Upload ``asset`` (a zip) and sign it; the resources are added to ``scope``."""
        unsigned = S3Object(
            scope,
            "CodeObject",
            bucket=self.bucket,
            key=f"unsigned/{function_name}/{asset.asset_hash}.zip",
            source=asset.path,
            source_hash=asset.asset_hash,
            kms_key_id=self.kms_key_arn,
            bucket_key_enabled=True,
            depends_on=self._versioned or None,  # Signer signs only versioned objects
        )
        job = SignerSigningJob(
            scope,
            "SigningJob",
            profile_name=self.profile.name,
            source=SignerSigningJobSource(
                s3=SignerSigningJobSourceS3(
                    bucket=unsigned.bucket, key=unsigned.key, version=unsigned.version_id
                )
            ),
            destination=SignerSigningJobDestination(
                s3=SignerSigningJobDestinationS3(bucket=self.bucket, prefix=f"signed/{function_name}/")
            ),
        )
        signed = job.signed_object.get(0).s3.get(0)
        return SignedCode(bucket=signed.bucket, key=signed.key)
