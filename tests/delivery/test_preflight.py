"""tools/preflight.py: missing or old terraform, missing credentials, the deploy order, and the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.credentials import ContainerProvider, InstanceMetadataProvider

from tests.delivery.helpers import ROOT, fake_executable
from tools import preflight
from tools.preflight import (
    CredentialsError,
    botocore_credential_method,
    credentials_problem,
    parse_terraform_version,
    run,
    terraform_problem,
)

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    preflight.INSTANCE_CREDENTIALS_FLAG,
)


def fake_terraform(directory: Path, version: str) -> dict[str, str]:
    """PATH holding only a fake ``terraform`` that reports ``version``."""
    fake_executable(directory, "terraform", f'print(\'{{"terraform_version": "{version}"}}\')\n')
    return {"PATH": str(directory)}


def has_credentials(_environ) -> str:
    return "env"


def no_credentials(_environ) -> None:
    return None


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """GIVEN a machine with no AWS credentials anywhere, and metadata endpoints that must not be called."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))

    def no_network(self):
        raise AssertionError(f"{type(self).__name__} would call a metadata endpoint")

    monkeypatch.setattr(InstanceMetadataProvider, "load", no_network)
    monkeypatch.setattr(ContainerProvider, "load", no_network)
    return tmp_path


# --- terraform -------------------------------------------------------------------------------------


def test_missing_terraform_is_reported_with_the_install_hint(tmp_path: Path):
    problem, _ = terraform_problem({"PATH": str(tmp_path)})
    assert problem is not None
    assert "terraform was not found on PATH" in problem
    assert ">= 1.10.0" in problem
    assert preflight.INSTALL_URL in problem


def test_terraform_older_than_the_s3_lockfile_is_refused(tmp_path: Path):
    problem, found = terraform_problem(fake_terraform(tmp_path, "1.9.8"))
    assert problem is not None
    assert "terraform 1.9.8" in problem
    assert "too old" in problem
    assert "use_lockfile" in problem
    assert "1.9.8" in found


def test_terraform_2_is_outside_the_constraint(tmp_path: Path):
    problem, _ = terraform_problem(fake_terraform(tmp_path, "2.0.0"))
    assert problem is not None
    assert "newer than this project supports" in problem


@pytest.mark.parametrize("version", ["1.10.0", "1.11.4", "1.14.2"])
def test_supported_terraform_passes(tmp_path: Path, version: str):
    problem, found = terraform_problem(fake_terraform(tmp_path, version))
    assert problem is None
    assert found.startswith(f"terraform {version} (")


def test_unreadable_terraform_version_is_reported(tmp_path: Path):
    fake_executable(tmp_path, "terraform", "print('something else')\n")
    problem, _ = terraform_problem({"PATH": str(tmp_path)})
    assert problem is not None
    assert "could not read the version" in problem


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{"terraform_version": "1.11.4", "platform": "linux_amd64"}', (1, 11, 4)),
        ("Terraform v1.9.8\non linux_amd64\n", (1, 9, 8)),
        ("", None),
    ],
)
def test_parse_terraform_version(output: str, expected):
    assert parse_terraform_version(output) == expected


# --- AWS credentials -------------------------------------------------------------------------------


def test_no_credentials_anywhere_is_reported_without_calling_metadata_endpoints(no_aws_config):
    problem, _ = credentials_problem({}, botocore_credential_method)
    assert problem is not None
    assert "no AWS credentials found" in problem
    assert "aws sso login" in problem
    assert preflight.INSTANCE_CREDENTIALS_FLAG in problem


def test_environment_credentials_are_found(no_aws_config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert credentials_problem({}, botocore_credential_method) == (None, "AWS credentials from env")


def test_shared_credentials_file_is_found(no_aws_config: Path):
    (no_aws_config / "credentials").write_text(
        "[default]\naws_access_key_id = A\naws_secret_access_key = B\n"
    )
    assert credentials_problem({}, botocore_credential_method)[0] is None


def test_a_profile_that_does_not_exist_is_a_misconfiguration(no_aws_config, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    problem, _ = credentials_problem({"AWS_PROFILE": "nope"}, botocore_credential_method)
    assert problem is not None
    assert "misconfigured" in problem
    assert "nope" in problem


def test_credentials_error_from_the_finder_is_reported():
    def broken(_environ):
        raise CredentialsError("bad config")

    assert "bad config" in (credentials_problem({}, broken)[0] or "")


# --- the whole check -------------------------------------------------------------------------------


def test_failure_lists_every_problem_and_explains_the_order(tmp_path: Path):
    report = run("deploy", "transaction-processing", {"PATH": str(tmp_path)}, no_credentials)
    assert not report.ok
    assert "terraform was not found" in report.text
    assert "no AWS credentials found" in report.text
    order = [report.text.index(f"make {step}") for step in ("bootstrap", "migrate", "deploy   ")]
    assert order == sorted(order)


STATE_KEY = {
    "TF_STATE_KMS_KEY_ARN": "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}


@pytest.mark.parametrize("action", ["diff", "deploy", "migrate"])
def test_the_main_stack_needs_the_state_key(tmp_path: Path, action: str):
    environ = {**fake_terraform(tmp_path, "1.11.4"), "ENVIRONMENT_SUFFIX": "qa"}
    report = run(action, "transaction-processing", environ, has_credentials)
    assert not report.ok
    # The file and the key to add, and the variable that may override it.
    assert "environments/dev.toml has no tf_state_kms_key_arn (and TF_STATE_KMS_KEY_ARN is not set)" in (
        report.text
    )
    assert "`make bootstrap ENV=dev`" in report.text
    assert "-state=terraform.state-backend-qa.tfstate -raw state_kms_key_arn" in report.text
    assert run(action, "transaction-processing", {**environ, **STATE_KEY}, has_credentials).ok
    assert run(action, "transaction-processing", {**environ, "DEPLOY_ENV": "prod"}, has_credentials).ok
    assert run("bootstrap", "state-backend", environ, has_credentials).ok


def test_invalid_settings_stop_the_main_stack_with_the_file_and_the_key(tmp_path: Path):
    environ = {**fake_terraform(tmp_path, "1.11.4"), "DEPLOY_ENV": "staging"}
    report = run("deploy", "transaction-processing", environ, has_credentials)
    assert not report.ok
    assert "no environment file environments/staging.toml (environments: dev, prod" in report.text


def test_success_names_the_terraform_and_the_credentials(tmp_path: Path):
    environ = {**fake_terraform(tmp_path, "1.11.4"), **STATE_KEY}
    report = run("deploy", "transaction-processing", environ, has_credentials)
    assert report.ok
    assert "terraform 1.11.4" in report.text
    assert "AWS credentials from env" in report.text
    assert "make bootstrap" in report.text


@pytest.mark.parametrize(
    ("action", "stack", "message"),
    [
        ("migrate", "state-backend", "nothing to migrate"),
        ("bootstrap", "transaction-processing", "bootstrap deploys state-backend only"),
        ("deploy", "nope", "unknown stack"),
        ("apply", "transaction-processing", "unknown action"),
    ],
)
def test_wrong_action_or_stack_is_refused(tmp_path: Path, action: str, stack: str, message: str):
    report = run(action, stack, fake_terraform(tmp_path, "1.11.4"), has_credentials)
    assert not report.ok
    assert message in report.text


def test_main_exits_1_and_writes_to_stderr(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(preflight, "botocore_credential_method", no_credentials)
    assert preflight.main(["diff", "transaction-processing"]) == 1
    assert "preflight for `make diff`" in capsys.readouterr().err


def test_in_github_actions_each_problem_is_an_error_annotation(tmp_path: Path, monkeypatch, capsys):
    # A missing state key in CI: the run's summary names the file and the key.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("DEPLOY_ENV", "dev")
    monkeypatch.delenv("TF_STATE_KMS_KEY_ARN", raising=False)
    monkeypatch.setattr(preflight, "botocore_credential_method", no_credentials)
    assert preflight.main(["deploy", "transaction-processing"]) == 1
    annotations = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")]
    assert len(annotations) == 3  # terraform, credentials, the state key
    assert any(
        "environments/dev.toml has no tf_state_kms_key_arn (and TF_STATE_KMS_KEY_ARN is not set)" in a
        for a in annotations
    )
    assert all("\n" not in a for a in annotations)


# --- consistency with the stacks and the Makefile --------------------------------------------------


def test_constants_match_the_app():
    from card_transactions.stacks import app

    bounds = re.fullmatch(r">= (\d+)\.(\d+)\.(\d+), < (\d+)\.(\d+)\.(\d+)", app.REQUIRED_TERRAFORM_VERSION)
    assert bounds is not None
    numbers = tuple(int(n) for n in bounds.groups())
    assert (numbers[:3], numbers[3:]) == (preflight.MINIMUM_TERRAFORM, preflight.BELOW_TERRAFORM)


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("bootstrap", "cdktf deploy state-backend"),
        ("migrate", "terraform -chdir=cdktf.out/stacks/$(STACK) init -migrate-state"),
        ("diff", "cdktf diff $(STACK)"),
        ("deploy", "cdktf deploy $(STACK)"),
        ("destroy", "cdktf destroy $(STACK)"),
    ],
)
def test_each_delivery_target_runs_the_preflight_first(target: str, command: str):
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(rf"^{target}:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None, target
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    assert lines[0].startswith(f"$(PY) -m tools.preflight {target} ")
    assert any(line.startswith(command) for line in lines[1:])


# --- Lambda concurrency (read-only calls, stubbed: no network) -------------------------------------


def stubbed_lambda(quota: int, unreserved: int, ours: dict[str, int]):
    """A Lambda client answering GetAccountSettings and GetFunctionConcurrency from a Stubber."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("lambda", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}},
    )
    names = (
        "validation-lambda-dev",
        "fraud-detection-lambda-dev",
        "failed-transaction-lambda-dev",
        "reconciler-lambda-dev",
    )
    for name in names:
        if name in ours:
            stubber.add_response(
                "get_function_concurrency",
                {"ReservedConcurrentExecutions": ours[name]},
                {"FunctionName": name},
            )
        else:
            stubber.add_client_error(
                "get_function_concurrency",
                "ResourceNotFoundException",
                expected_params={"FunctionName": name},
            )
    stubber.activate()
    return client, stubber


def test_default_reservations_fit_a_default_account():
    from card_transactions.stacks.config import Settings

    client, stubber = stubbed_lambda(1000, 1000, {})
    problem, found = preflight.concurrency_problem(Settings(), client)
    stubber.assert_no_pending_responses()
    assert problem is None
    assert found == "Lambda concurrency quota 1000, 0 reserved by other functions"


def test_a_small_quota_stops_the_deploy_with_the_numbers_and_the_fix():
    from card_transactions.stacks.config import Settings

    client, _ = stubbed_lambda(10, 10, {})
    problem, _ = preflight.concurrency_problem(Settings(), client)
    assert problem is not None
    assert "would reserve 173 concurrent executions" in problem
    assert "quota is 10" in problem and "at most 0 can be reserved" in problem
    derived = "VALIDATION_RESERVED_CONCURRENCY 150 derived from (API_RATE_LIMIT 500 + API_BURST_LIMIT 1000)"
    assert derived in problem
    assert "VALIDATION_LATENCY_BUDGET_MS 100" in problem and "Service Quotas" in problem


def test_the_stacks_own_reservations_are_counted_once():
    from card_transactions.stacks.config import Settings

    # GIVEN a quota of 300 where this stack already reserves 173 and another function 27
    ours = {
        "validation-lambda-dev": 150,
        "fraud-detection-lambda-dev": 20,
        "failed-transaction-lambda-dev": 2,
        "reconciler-lambda-dev": 1,
    }
    client, _ = stubbed_lambda(300, 100, ours)
    # THEN redeploying the same reservations fits (300 - 27 - 100 = 173) ...
    assert preflight.concurrency_problem(Settings(), client)[0] is None
    # ... and one more unit does not, whether derived from the usage plan or set
    client, _ = stubbed_lambda(300, 100, ours)
    assert preflight.concurrency_problem(Settings(validation_latency_budget_ms=101), client)[0] is not None
    client, _ = stubbed_lambda(300, 100, ours)
    problem = preflight.concurrency_problem(Settings(validation_reserved_concurrency=151), client)[0]
    assert problem is not None and "VALIDATION_RESERVED_CONCURRENCY 151 +" in problem


def test_run_checks_concurrency_only_before_deploying_the_transaction_stack(tmp_path: Path):
    calls: list[str] = []

    def too_small(environ):
        calls.append("checked")
        return "the functions would reserve 73", "Lambda concurrency quota 10"

    environ = {**fake_terraform(tmp_path, "1.11.4"), **STATE_KEY}
    report = run("deploy", "transaction-processing", environ, has_credentials, too_small)
    assert not report.ok and "the functions would reserve 73" in report.text
    assert run("diff", "transaction-processing", environ, has_credentials, too_small).ok
    assert run("bootstrap", "state-backend", environ, has_credentials, too_small).ok
    assert not run("deploy", "transaction-processing", environ, no_credentials, too_small).ok
    assert calls == ["checked"]  # not without credentials, not for other actions or stacks


def test_unreadable_account_settings_name_the_permission(monkeypatch: pytest.MonkeyPatch):
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("lambda", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error("get_account_settings", "AccessDeniedException")
    stubber.activate()
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    problem, _ = preflight.account_concurrency_check({})
    assert problem is not None and "lambda:GetAccountSettings" in problem
    problem, _ = preflight.account_concurrency_check({"VALIDATION_RESERVED_CONCURRENCY": "0"})
    assert problem is not None and "VALIDATION_RESERVED_CONCURRENCY" in problem
