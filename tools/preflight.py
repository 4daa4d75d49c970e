"""Checks the machine before `make diff|deploy|bootstrap|migrate|destroy` runs the cdktf CLI.

Fails with every problem found at once, each with its fix:

- ``terraform`` missing from PATH, or a version outside the pinned constraint (the S3 backend locks with
  ``use_lockfile``, which needs Terraform >= 1.10; ``stacks/app.py`` writes the same constraint into each
  stack's ``versions.tf``);
- no AWS credentials, found with botocore's own resolution chain (environment, shared files, SSO,
  ``credential_process``, web identity) without a network call: the providers that would call the EC2 or
  container metadata endpoints are skipped unless ``PREFLIGHT_INSTANCE_CREDENTIALS=1``;
- before ``deploy`` of the transaction stack: reserved concurrency that the account cannot give. Lambda
  keeps at least 100 units unreserved, so the functions' reservations must fit in the account's
  concurrency quota minus 100 minus what other functions reserve. Read-only calls
  (``lambda:GetAccountSettings``, ``lambda:GetFunctionConcurrency``) find both.
- for the main stack, no ``tf_state_kms_key_arn`` in the environment's file (``environments/<ENV>.toml``,
  or ``TF_STATE_KMS_KEY_ARN`` overriding it): its state would not be written with the state bucket's key,
  which the bucket policy refuses (after resources were created). Invalid settings are reported too, with
  the file, the key and the value.

Usage: ``python -m tools.preflight ACTION STACK`` (ACTION: bootstrap, diff, deploy, migrate, destroy).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from card_transactions.settings.environments import Loaded, key_of, load_environment
from card_transactions.settings.model import spec_of
from card_transactions.settings.system import STACKS, STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.config import Settings

# Kept equal to stacks.app.REQUIRED_TERRAFORM_VERSION (">= 1.10.0, < 2.0.0") by tests/delivery.
MINIMUM_TERRAFORM = (1, 10, 0)
BELOW_TERRAFORM = (2, 0, 0)
ACTIONS = ("bootstrap", "diff", "deploy", "migrate", "destroy")
INSTANCE_CREDENTIALS_FLAG = "PREFLIGHT_INSTANCE_CREDENTIALS"
METADATA_PROVIDERS = ("container-role", "iam-role")
INSTALL_URL = "https://developer.hashicorp.com/terraform/install"
STATE_KEY_VAR = spec_of(Settings, "state_kms_key_arn").env

ORDER = f"""\
Order, once per account and environment (ENV=<name> picks environments/<name>.toml, dev by default):
  1. make bootstrap   stack {STATE_BACKEND_STACK}: creates the state bucket and lock table; its own state
                      is local (terraform.{STATE_BACKEND_STACK}-<env>.tfstate at the repository
                      root): back it up and keep it with your team's secrets
  2. make migrate     only when {TRANSACTION_STACK} already has a state elsewhere (local file, another
                      bucket or key): copies it into the bucket; skip on a first deploy
  3. make deploy      stack {TRANSACTION_STACK}, state in the bucket, locked with use_lockfile
Then `make diff` before each change; `make destroy` removes {TRANSACTION_STACK} (then, if wanted,
`make destroy STACK={STATE_BACKEND_STACK}` last)."""


def _version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def parse_terraform_version(output: str) -> tuple[int, int, int] | None:
    """The version from ``terraform version -json`` output, or from the plain ``Terraform v1.2.3`` line."""
    text = output.strip()
    try:
        raw = json.loads(text).get("terraform_version", "")
    except (ValueError, AttributeError):
        raw = text
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", raw)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def terraform_problem(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(problem or None, description of the terraform found)."""
    path = shutil.which("terraform", path=environ.get("PATH", os.defpath))
    if path is None:
        return (
            "terraform was not found on PATH. Install Terraform "
            f">= {_version_text(MINIMUM_TERRAFORM)}, < {_version_text(BELOW_TERRAFORM)} ({INSTALL_URL}); "
            "the cdktf CLI runs it for diff, deploy and destroy.",
            "",
        )
    env = {**environ, "CHECKPOINT_DISABLE": "1"}  # no update check: `terraform version` stays offline
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, binary resolved from PATH above
            [path, "version", "-json"], capture_output=True, text=True, timeout=60, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{path} could not be run: {error}", path
    version = parse_terraform_version(done.stdout)
    if version is None:
        return (
            f"could not read the version of {path} (`terraform version -json` printed {done.stdout!r}).",
            path,
        )
    found = f"terraform {_version_text(version)} ({path})"
    if version < MINIMUM_TERRAFORM:
        return (
            f"{found} is too old: the S3 backend of {TRANSACTION_STACK} locks with `use_lockfile`, "
            f"which needs Terraform >= {_version_text(MINIMUM_TERRAFORM)} "
            "(each stack's versions.tf requires it too). "
            f"Upgrade Terraform ({INSTALL_URL}).",
            found,
        )
    if version >= BELOW_TERRAFORM:
        return (
            f"{found} is newer than this project supports (< {_version_text(BELOW_TERRAFORM)}); "
            f"install a 1.x release >= {_version_text(MINIMUM_TERRAFORM)}.",
            found,
        )
    return None, found


CredentialFinder = Callable[[Mapping[str, str]], str | None]


def botocore_credential_method(environ: Mapping[str, str]) -> str | None:
    """The botocore provider that has credentials (``env``, ``sso``, ...), or None. No network call.

    Providers return deferred credentials for SSO, assume-role and web identity, so loading them reads
    only local files; the metadata providers are removed unless explicitly allowed.
    """
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        resolver = botocore.session.Session().get_component("credential_provider")
        if environ.get(INSTANCE_CREDENTIALS_FLAG) != "1":
            for method in METADATA_PROVIDERS:
                resolver.remove(method)
        credentials = resolver.load_credentials()
    except BotoCoreError as error:  # e.g. AWS_PROFILE names a profile that does not exist
        raise CredentialsError(str(error)) from error
    return credentials.method if credentials is not None else None


class CredentialsError(Exception):
    """The credential configuration is present but broken."""


def credentials_problem(environ: Mapping[str, str], find: CredentialFinder) -> tuple[str | None, str]:
    try:
        method = find(environ)
    except CredentialsError as error:
        return f"AWS credentials are misconfigured: {error}", ""
    if method is None:
        profile = environ.get("AWS_PROFILE")
        where = f" for profile {profile!r}" if profile else ""
        return (
            f"no AWS credentials found{where} (environment, ~/.aws/credentials, ~/.aws/config, SSO, "
            "credential_process, web identity). Sign in first, e.g. `aws sso login --profile <p>` and "
            "`export AWS_PROFILE=<p>`, or export AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / "
            f"AWS_SESSION_TOKEN. On EC2 or in a container with a role, set {INSTANCE_CREDENTIALS_FLAG}=1.",
            "",
        )
    return None, f"AWS credentials from {method}"


UNRESERVED_MINIMUM = 100  # concurrency Lambda keeps unreserved in every account
ConcurrencyCheck = Callable[[Mapping[str, str]], tuple[str | None, str]]


def concurrency_problem(settings: Settings, lambda_client: Any) -> tuple[str | None, str]:
    """(problem or None, what was found): do the functions' reservations fit the account's quota?

    The functions' own current reservations are already subtracted from the account's unreserved
    concurrency; they are added back, since the deploy replaces them."""
    limits = lambda_client.get_account_settings()["AccountLimit"]
    quota, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    ours_now = 0
    for name in settings.function_names.values():
        try:
            ours_now += lambda_client.get_function_concurrency(FunctionName=name).get(
                "ReservedConcurrentExecutions", 0
            )
        except lambda_client.exceptions.ResourceNotFoundException:
            continue
    reserved_by_others = quota - unreserved - ours_now
    available = quota - reserved_by_others - UNRESERVED_MINIMUM
    wanted = settings.reserved_concurrency
    found = f"Lambda concurrency quota {quota}, {reserved_by_others} reserved by other functions"
    if wanted <= available:
        return None, found
    return (
        f"the functions would reserve {wanted} concurrent executions (VALIDATION_RESERVED_CONCURRENCY "
        f"{settings.validation.reserved_concurrency}{_derived(settings)} + FRAUD_RESERVED_CONCURRENCY "
        f"{settings.fraud_reserved_concurrency} + FAILED_RESERVED_CONCURRENCY "
        f"{settings.failed_reserved_concurrency} + the reconciler's "
        f"{settings.reconciler.reserved_concurrency}), but this account's quota is {quota}, other functions "
        f"reserve {reserved_by_others} and Lambda keeps {UNRESERVED_MINIMUM} unreserved: at most "
        f"{max(available, 0)} can be reserved, so PutFunctionConcurrency would fail during apply. Lower "
        "those settings (each at least its minimum), or ask AWS for a higher 'Concurrent executions' "
        "quota (Service Quotas, Lambda).",
        found,
    )


def _derived(settings: Settings) -> str:
    if settings.validation_reserved_concurrency is not None:
        return ""
    return (
        f" derived from (API_RATE_LIMIT {settings.api_rate_limit} + API_BURST_LIMIT "
        f"{settings.api_burst_limit}) x VALIDATION_LATENCY_BUDGET_MS {settings.validation_latency_budget_ms}"
    )


def account_concurrency_check(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """``concurrency_problem`` with the settings of ``environ`` and a Lambda client of its region."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        settings = load_environment(Settings, environ).settings
    except ValueError as error:
        return f"the settings are invalid: {error}", ""
    try:
        return concurrency_problem(settings, boto3.client("lambda", region_name=settings.region))
    except (BotoCoreError, ClientError) as error:
        return (
            f"could not read the account's Lambda concurrency ({error}); the deployer needs the read-only "
            "lambda:GetAccountSettings and lambda:GetFunctionConcurrency.",
            "",
        )


def state_key_problem(action: str, stack: str, environ: Mapping[str, str]) -> str | None:
    """The main stack's backend writes its state with the state bucket's key, named at synth (in the
    environment's file, or by its variable)."""
    if stack != TRANSACTION_STACK or action not in ("diff", "deploy", "migrate"):
        return None
    try:
        loaded: Loaded[Settings] = load_environment(Settings, environ)
    except ValueError as error:
        return f"the settings are invalid: {error}"
    if loaded.settings.state_kms_key_arn:
        return None
    key = key_of(spec_of(Settings, "state_kms_key_arn"))
    state_file = f"terraform.{STATE_BACKEND_STACK}-{loaded.settings.environment_suffix}.tfstate"
    return (
        f"{loaded.file} has no {key} (and {STATE_KEY_VAR} is not set): "
        f"the state of {TRANSACTION_STACK} must be written with the state bucket's KMS key (its policy "
        f"refuses anything else). After `make bootstrap ENV={loaded.name}`, add the output of "
        f'`terraform output -state={state_file} -raw state_kms_key_arn` to that file as {key} = "..."'
    )


def stack_problem(action: str, stack: str) -> str | None:
    if action not in ACTIONS:
        return f"unknown action {action!r}: choose one of {', '.join(ACTIONS)}."
    if stack not in STACKS:
        return f"unknown stack {stack!r}: choose one of {', '.join(STACKS)}."
    if action == "bootstrap" and stack != STATE_BACKEND_STACK:
        return f"bootstrap deploys {STATE_BACKEND_STACK} only, got {stack!r}."
    if action == "migrate" and stack == STATE_BACKEND_STACK:
        return f"{STATE_BACKEND_STACK} keeps a local state: there is nothing to migrate into the bucket."
    return None


@dataclass(frozen=True)
class Report:
    ok: bool
    text: str
    problems: tuple[str, ...] = ()


def github_annotations(problems: tuple[str, ...]) -> str:
    """Each problem as a GitHub Actions error annotation (shown on the run's summary page)."""
    escaped = (p.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A") for p in problems)
    return "\n".join(f"::error title=preflight::{problem}" for problem in escaped)


def run(
    action: str,
    stack: str,
    environ: Mapping[str, str],
    find: CredentialFinder,
    concurrency: ConcurrencyCheck | None = None,
) -> Report:
    """Every problem at once; ``concurrency`` checks the account before a deploy of the transaction
    stack (when credentials were found)."""
    problems = []
    if problem := stack_problem(action, stack):
        problems.append(problem)
    tf_problem, tf_found = terraform_problem(environ)
    cred_problem, cred_found = credentials_problem(environ, find)
    problems += [p for p in (tf_problem, cred_problem, state_key_problem(action, stack, environ)) if p]
    if concurrency is not None and action == "deploy" and stack == TRANSACTION_STACK and not cred_problem:
        limit_problem, limit_found = concurrency(environ)
        if limit_problem:
            problems.append(limit_problem)
        cred_found += f", {limit_found}" if limit_found else ""
    if problems:
        lines = [f"preflight for `make {action}` ({stack}) failed:"]
        lines += [f"  - {problem}" for problem in problems]
        return Report(False, "\n".join([*lines, "", ORDER]), tuple(problems))
    note = ""
    if action in ("deploy", "diff", "migrate", "destroy") and stack == TRANSACTION_STACK:
        note = (
            f"\nNote: {stack} keeps its state in the bucket made by `make bootstrap`; "
            "if `terraform init` says the bucket does not exist, run `make bootstrap` first."
        )
    return Report(True, f"preflight ok: {tf_found}, {cred_found}.{note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", help=", ".join(ACTIONS))
    parser.add_argument("stack", help=", ".join(STACKS))
    args = parser.parse_args(argv)
    report = run(args.action, args.stack, os.environ, botocore_credential_method, account_concurrency_check)
    print(report.text, file=sys.stdout if report.ok else sys.stderr)
    if report.problems and os.environ.get("GITHUB_ACTIONS") == "true":
        print(github_annotations(report.problems))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
