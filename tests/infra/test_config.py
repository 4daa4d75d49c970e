"""Settings: defaults, environment overrides, and clear errors for bad values."""

from decimal import Decimal

import pytest

from card_transactions.handlers.domain.fraud import FraudThresholds
from card_transactions.stacks.config import Settings


def test_defaults():
    s = Settings.from_env({})
    assert (s.environment_suffix, s.region) == ("dev", "us-east-2")
    assert (s.api_rate_limit, s.api_burst_limit, s.api_quota_per_day) == (500, 1000, 10_000)
    defaults = FraudThresholds()
    assert (s.fraud_high_amount, s.fraud_review_threshold, s.fraud_suspected_threshold) == (
        defaults.high_amount,
        defaults.review_threshold,
        defaults.suspected_threshold,
    )
    assert s.log_retention_days == 365
    assert s.merchant_table_name == "merchant-config-dev"
    assert s.transaction_table_name == "processed-transactions-dev"
    assert s.validation.provisioned_concurrency == 0


def test_environment_overrides_are_parsed_to_their_types():
    s = Settings.from_env(
        {
            "ENVIRONMENT_SUFFIX": "prod",
            "AWS_REGION": "eu-west-1",
            "API_RATE_LIMIT": "50",
            "FRAUD_HIGH_AMOUNT": "7500.50",
            "ALERT_ON_REVIEW_REQUIRED": "true",
            "VALIDATION_PROVISIONED_CONCURRENCY": "5",
            "TF_STATE_BUCKET": "acme-tfstate",
        }
    )
    assert s.merchant_table_name == "merchant-config-prod"
    assert s.region == "eu-west-1"
    assert s.api_rate_limit == 50
    assert s.fraud_high_amount == Decimal("7500.50")
    assert s.alert_on_review_required is True
    assert s.validation.provisioned_concurrency == 5
    assert s.resolved_state_bucket == "acme-tfstate"


def test_empty_variables_keep_defaults():
    assert Settings.from_env({"API_RATE_LIMIT": "", "ENVIRONMENT_SUFFIX": "  "}) == Settings()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ENVIRONMENT_SUFFIX": "Prod!"}, "ENVIRONMENT_SUFFIX"),
        ({"AWS_REGION": "mars-1"}, "AWS_REGION"),
        ({"API_RATE_LIMIT": "fast"}, "API_RATE_LIMIT"),
        ({"API_RATE_LIMIT": "0"}, "API_RATE_LIMIT"),
        ({"API_BURST_LIMIT": "0"}, "API_BURST_LIMIT"),
        ({"LOG_RETENTION_DAYS": "30"}, "LOG_RETENTION_DAYS"),
        ({"FRAUD_HIGH_AMOUNT": "-1"}, "FRAUD_HIGH_AMOUNT"),
        ({"FRAUD_HIGH_AMOUNT": "NaN"}, "FRAUD_HIGH_AMOUNT"),
        ({"FRAUD_REVIEW_THRESHOLD": "60"}, "FRAUD_SUSPECTED_THRESHOLD"),
        ({"ALERT_ON_REVIEW_REQUIRED": "maybe"}, "ALERT_ON_REVIEW_REQUIRED"),
        ({"VALIDATION_RESERVED_CONCURRENCY": "0"}, "VALIDATION_RESERVED_CONCURRENCY"),
        ({"VALIDATION_PROVISIONED_CONCURRENCY": "500"}, "VALIDATION_PROVISIONED_CONCURRENCY"),
        ({"QUEUE_MAX_CONCURRENCY": "1"}, "QUEUE_MAX_CONCURRENCY"),
        ({"QUEUE_MAX_CONCURRENCY": "80"}, "QUEUE_MAX_CONCURRENCY"),
        ({"LAMBDA_ARCHITECTURE": "sparc"}, "LAMBDA_ARCHITECTURE"),
        ({"VPC_CIDR": "10.0.0.0/8"}, "VPC_CIDR"),
        ({"VPC_CIDR": "300.0.0.0/16"}, "VPC_CIDR"),
        ({"AVAILABILITY_ZONE_COUNT": "1"}, "AVAILABILITY_ZONE_COUNT"),
        ({"TF_STATE_BUCKET": "Bad_Bucket"}, "TF_STATE_BUCKET"),
    ],
)
def test_bad_values_fail_naming_the_variable_and_the_value(env, expected):
    ((_, value),) = env.items()
    with pytest.raises(ValueError, match=expected) as error:
        Settings.from_env(env)
    assert value in str(error.value)


def test_large_batches_need_a_batching_window():
    with pytest.raises(ValueError, match=r"QUEUE_BATCH_SIZE.*QUEUE_BATCHING_WINDOW_SECONDS.*got '100'"):
        Settings.from_env({"QUEUE_BATCH_SIZE": "100", "QUEUE_BATCHING_WINDOW_SECONDS": "0"})
    assert Settings.from_env({"QUEUE_BATCH_SIZE": "100"}).queue_batch_size == 100  # default window is 1 s


def test_main_fails_synth_with_the_bad_setting(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "main.py"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "API_QUOTA_PER_DAY": "-5", "CDKTF_OUTDIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "API_QUOTA_PER_DAY" in result.stderr and "-5" in result.stderr
    assert not (tmp_path / "stacks").exists()


def test_main_names_a_missing_environment_file(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "CDKTF_OUTDIR": str(tmp_path), "DEPLOY_ENV": "nowhere"}
    command = [sys.executable, "main.py"]
    unknown = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert unknown.returncode != 0
    assert "synth stopped: no environment file environments/nowhere.toml (environments: dev, prod" in (
        unknown.stderr
    )
    assert not (tmp_path / "stacks").exists()
