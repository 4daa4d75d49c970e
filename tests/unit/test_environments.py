"""Environment files: read through the catalog, strict about keys, types and bounds, overridable by
variables, and saying where each non-default setting came from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from card_transactions.settings.environments import (
    DEFAULT_ENVIRONMENT,
    ENVIRONMENT_VARIABLE,
    ENVIRONMENTS_DIR,
    environment_file,
    key_of,
    load,
    load_environment,
)
from card_transactions.settings.model import settings_of
from card_transactions.stacks.config import Settings

COMMITTED = sorted(p.stem for p in ENVIRONMENTS_DIR.glob("*.toml"))


def written(tmp_path: Path, text: str, name: str = "qa") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_dev_and_prod_are_committed_and_dev_is_the_default():
    assert {"dev", "prod"} <= set(COMMITTED)
    assert DEFAULT_ENVIRONMENT == "dev"
    assert load_environment(Settings, {}).path == ENVIRONMENTS_DIR / "dev.toml"


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_file_is_valid_alone(name: str):
    loaded = load_environment(Settings, {ENVIRONMENT_VARIABLE: name})
    assert loaded.settings.environment_suffix == name
    assert all(o.source == f"environments/{name}.toml" for o in loaded.origins)


def test_dev_keeps_the_original_defaults():
    # The release snapshot and the session synth of the tests are the catalog's defaults.
    assert load_environment(Settings, {}).settings == Settings()


def test_prod_holds_what_the_first_deploy_needs():
    prod = load_environment(Settings, {ENVIRONMENT_VARIABLE: "prod"}).settings
    assert prod.state_kms_key_arn and prod.state_bucket and prod.deploy_role_arn
    assert len(prod.api_clients) > 1 and prod.api_domain_name and prod.alert_emails
    assert prod.manage_api_gateway_account is False


def test_keys_are_the_variables_in_lower_case():
    assert {key_of(spec) for spec in settings_of(Settings)} >= {"aws_region", "api_clients", "project_name"}


def test_toml_types_become_the_settings_types(tmp_path: Path):
    path = written(
        tmp_path,
        'environment_suffix = "qa"\napi_rate_limit = 50\nfraud_high_amount = "7500.50"\n'
        "alert_on_review_required = true\n"
        'api_clients = ["a:10:20:30", "b"]\n',
    )
    settings = load(Settings, path, {}).settings
    assert settings.api_rate_limit == 50
    assert settings.fraud_high_amount == Decimal("7500.50")
    assert settings.alert_on_review_required is True
    assert settings.api_clients == ("a:10:20:30", "b")
    integer = load(Settings, written(tmp_path, "fraud_high_amount = 9000\n"), {}).settings
    assert integer.fraud_high_amount == 9000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('api_key = "abc"\n', "qa.toml: unknown key 'api_key' = \"abc\""),
        ("API_RATE_LIMIT = 50\n", "qa.toml: unknown key 'API_RATE_LIMIT' = 50"),
        ('api_rate_limit = "50"\n', 'qa.toml: api_rate_limit must be an integer, got "50"'),
        ("api_rate_limit = true\n", "qa.toml: api_rate_limit must be an integer, got true"),
        ("api_rate_limit = 0\n", "qa.toml: api_rate_limit must be between 1 and 10000, got '0'"),
        ('deletion_protection = "no"\n', "qa.toml: deletion_protection must be true or false"),
        ('api_clients = "a"\n', 'qa.toml: api_clients must be an array of strings, got "a"'),
        ("fraud_high_amount = 7500.5\n", "qa.toml: fraud_high_amount must be a decimal number written as"),
        ('fraud_high_amount = "lots"\n', 'qa.toml: fraud_high_amount must be a decimal number, got "lots"'),
        ('environment_suffix = "Prod!"\n', "qa.toml: environment_suffix must be 1-16 chars"),
        ('aws_region = "mars-1"\n', "qa.toml: aws_region must be an AWS region such as us-east-2, got 'mars"),
        ("log_retention_days = 30\n", "qa.toml: log_retention_days must be one of 365"),
        ('api_domain_name = "api.example.com"\n', "qa.toml: API_CERTIFICATE_ARN must be set exactly when"),
        ("api_rate_limit = [\n", "qa.toml is not valid TOML"),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_the_value(tmp_path: Path, text: str, message: str):
    with pytest.raises(ValueError) as error:
        load(Settings, written(tmp_path, text), {})
    assert message in str(error.value)


def test_a_secret_setting_never_goes_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = next(s for s in settings_of(Settings) if s.name == "deploy_role_arn")
    monkeypatch.setattr(spec, "secret", True)
    with pytest.raises(ValueError, match=r"qa.toml: deploy_role_arn is a secret and never goes in a file"):
        load(Settings, written(tmp_path, 'deploy_role_arn = "arn:aws:iam::111122223333:role/x"\n'), {})


def test_a_variable_overrides_its_setting_and_the_origin_says_so(tmp_path: Path):
    path = written(tmp_path, 'environment_suffix = "qa"\napi_rate_limit = 50\napi_burst_limit = 1000\n')
    loaded = load(Settings, path, {"API_RATE_LIMIT": "70", "AWS_REGION": "eu-west-1", "VPC_CIDR": " "})
    assert loaded.settings.api_rate_limit == 70
    assert loaded.settings.region == "eu-west-1"
    described = loaded.describe()
    assert f"settings of environment qa ({path})" in described
    assert "api_rate_limit = 70 (environment variable API_RATE_LIMIT)" in described
    assert 'aws_region = "eu-west-1" (environment variable AWS_REGION)' in described
    assert f'environment_suffix = "qa" ({path})' in described
    assert "api_burst_limit" not in described  # at its default, wherever it was written
    assert "vpc_cidr" not in described  # an empty variable overrides nothing


def test_a_bad_override_names_the_variable(tmp_path: Path):
    with pytest.raises(ValueError, match=r"API_RATE_LIMIT must be between 1 and 10000, got '0'"):
        load(Settings, written(tmp_path, ""), {"API_RATE_LIMIT": "0"})


def test_a_rule_broken_by_an_override_names_the_file_and_the_variable(tmp_path: Path):
    with pytest.raises(ValueError, match=r"qa.toml with API_DOMAIN_NAME from the environment: API_CERT"):
        load(Settings, written(tmp_path, ""), {"API_DOMAIN_NAME": "api.example.com"})


def test_an_empty_file_gives_the_defaults(tmp_path: Path):
    loaded = load(Settings, written(tmp_path, "# nothing\n"), {})
    assert loaded.settings == Settings()
    assert loaded.describe().endswith("every setting at its default")


def test_an_unknown_environment_lists_the_known_ones(tmp_path: Path):
    written(tmp_path, "", "dev")
    written(tmp_path, "", "prod")
    with pytest.raises(ValueError, match=r"no environment file .*staging.toml \(environments: dev, prod\)"):
        environment_file("staging", tmp_path)
    with pytest.raises(ValueError, match=r"environment name must be .*got '../etc'"):
        environment_file("../etc", tmp_path)


def test_the_local_runtime_synthesizes_again_for_another_environment():
    from local.synth import fingerprint

    assert fingerprint({}) != fingerprint({ENVIRONMENT_VARIABLE: "prod"})
