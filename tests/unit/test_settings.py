"""The settings model: one declaration per setting, read the same way by synth, the functions and the
local runtime."""

from __future__ import annotations

from decimal import Decimal

import pytest

from card_transactions.handlers.domain.fraud import FraudThresholds, VelocityRule
from card_transactions.handlers.runtime_settings import SETTINGS_OF
from card_transactions.settings.catalog import FunctionResources, FunctionSettings, Settings
from card_transactions.settings.model import delivered_to, environment_for, settings_of
from card_transactions.settings.system import FUNCTIONS, observability_environment
from local.config import LocalSettings

RESOURCES = FunctionResources(
    merchant_table_name="merchant-config-dev",
    transaction_table_name="processed-transactions-dev",
    api_key_table_name="api-keys-dev",
)
GROUPS = (Settings, FunctionResources, LocalSettings)


def test_every_variable_is_declared_once():
    variables = [spec.env for group in GROUPS for spec in settings_of(group)]
    assert len(variables) == len(set(variables))
    assert all(spec.doc for group in GROUPS for spec in settings_of(group))


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.__name__)
def test_every_default_passes_its_own_checks_and_survives_a_round_trip(group):
    for spec in settings_of(group):
        if spec.default is None or spec.default == "" or spec.env.endswith(("_NAME", "_URL", "_ARN")):
            continue
        assert spec.read({spec.env: spec.render(spec.default)}) == spec.default, spec.env


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings.from_env(
            {
                "FRAUD_HIGH_AMOUNT": "7500.50",
                "FRAUD_REVIEW_THRESHOLD": "20",
                "ALERT_ON_REVIEW_REQUIRED": "YES",
                "VELOCITY_MAX_TRANSACTIONS": "12",
                "MERCHANT_CACHE_TTL_SECONDS": "0",
            }
        ),
    ],
    ids=["defaults", "overrides"],
)
@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.entry_point)
def test_a_function_reads_back_exactly_what_synth_passed_on(settings, function):
    # GIVEN the environment the stack gives the function
    environment = observability_environment(function, "dev") | environment_for(function, settings, RESOURCES)
    # WHEN the function reads its settings
    view = SETTINGS_OF[function].from_env(environment)
    # THEN every value is the synth value, and nothing else was passed on
    for name in view.declared():
        source = settings if hasattr(settings, name) else RESOURCES
        assert getattr(view, name) == getattr(source, name), name
    assert set(environment) == set(view.ENV_VARS) | set(observability_environment(function, "dev"))


def test_every_function_has_a_view_matching_the_catalog():
    assert set(SETTINGS_OF) == set(FUNCTIONS)
    for function, view in SETTINGS_OF.items():
        assert {s.name for s in delivered_to(function, FunctionSettings.SOURCES)} == set(view.declared())


def test_a_view_that_drifts_from_the_catalog_is_refused():
    class Drifted(FunctionSettings):
        FUNCTION = FUNCTIONS[0]

        merchant_table_name: str
        max_body_bytes: str  # the catalog says int

    with pytest.raises(TypeError, match="max_body_bytes"):
        Drifted.from_env({})


@pytest.mark.parametrize(("raw", "value"), [("true", True), (" TRUE ", True), ("1", True), ("yes", True)])
def test_booleans_have_one_spelling_everywhere(raw, value):
    assert Settings.from_env({"DELETION_PROTECTION": raw}).deletion_protection is value
    assert LocalSettings.from_env({"LOCAL_SEED": raw}).seed_merchants is value
    assert Settings.from_env({"ALERT_ON_REVIEW_REQUIRED": raw}).alert_on_review_required is value


RESOURCE_ENV = {spec.env: getattr(RESOURCES, spec.name) for spec in settings_of(FunctionResources)}


@pytest.mark.parametrize("raw", ["on", "off", "y", "enabled", "2"])
def test_other_boolean_spellings_are_refused_everywhere(raw):
    with pytest.raises(ValueError, match=f"DELETION_PROTECTION must be true or false, got '{raw}'"):
        Settings.from_env({"DELETION_PROTECTION": raw})
    with pytest.raises(ValueError, match="LOCAL_SEED must be true or false"):
        LocalSettings.from_env({"LOCAL_SEED": raw})
    with pytest.raises(ValueError, match="ALERT_ON_REVIEW_REQUIRED must be true or false"):
        Settings.from_env({"ALERT_ON_REVIEW_REQUIRED": raw})


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("FRAUD_REVIEW_THRESHOLD", "0"),  # one set of bounds: >= 1 at synth and at run time
        ("VELOCITY_MAX_TRANSACTIONS", "0"),  # off is unset, not 0
        ("MERCHANT_CACHE_TTL_SECONDS", "3601"),
        ("MAX_BODY_BYTES", "1_000"),  # integers are plain digits
        ("FRAUD_HIGH_AMOUNT", "Infinity"),
    ],
)
def test_synth_and_the_function_refuse_the_same_values(variable, raw):
    with pytest.raises(ValueError, match=variable):
        Settings.from_env({variable: raw})
    functions = [f for f in FUNCTIONS if variable in SETTINGS_OF[f].ENV_VARS]
    assert functions
    for function in functions:
        with pytest.raises(ValueError, match=variable):
            SETTINGS_OF[function].from_env({**RESOURCE_ENV, variable: raw})


def test_secrets_are_never_echoed():
    with pytest.raises(ValueError) as caught:
        LocalSettings.from_env({"LOCAL_API_KEY": "tiny-secret"})
    assert "tiny-secret" not in str(caught.value)
    assert "tiny-secret" not in repr(LocalSettings(api_key="a-long-enough-secret-value"))


def test_a_rule_across_settings_names_both_variables():
    with pytest.raises(ValueError, match=r"DLQ_MAX_CONCURRENCY must be <= FAILED_RESERVED_CONCURRENCY \(2\)"):
        Settings.from_env({"DLQ_MAX_CONCURRENCY": "3"})
    assert Settings.from_env({"FRAUD_REVIEW_THRESHOLD": "10", "FRAUD_SUSPECTED_THRESHOLD": "10"})


def test_required_function_settings_name_the_variable():
    with pytest.raises(ValueError, match="TRANSACTION_TABLE_NAME must be set, got None"):
        SETTINGS_OF[FUNCTIONS[2]].from_env({"MERCHANT_TABLE_NAME": "merchants"})
    assert Decimal(Settings().fraud_high_amount) == Decimal(5000)


def test_waf_overrides_must_name_a_configured_group_and_an_action():
    with pytest.raises(ValueError, match="WAF_RULE_ACTION_OVERRIDES must be GROUP:RULE=ACTION"):
        Settings.from_env(
            {"WAF_RULE_ACTION_OVERRIDES": "AWSManagedRulesAnonymousIpList:HostingProviderIPList"}
        )
    with pytest.raises(ValueError, match="overrides of rules in WAF_MANAGED_RULE_GROUPS"):
        Settings.from_env({"WAF_MANAGED_RULE_GROUPS": "AWSManagedRulesCommonRuleSet"})
    with pytest.raises(ValueError, match="WAF_RATE_WINDOW_SECONDS must be one of 60, 120, 300, 600"):
        Settings.from_env({"WAF_RATE_WINDOW_SECONDS": "30"})


def test_api_clients_are_distinct_and_within_the_stages_throttling():
    assert Settings.from_env({"API_CLIENTS": "acme, globex:10:20:30"}).api_clients == (
        "acme",
        "globex:10:20:30",
    )
    with pytest.raises(ValueError, match="distinct client names"):
        Settings.from_env({"API_CLIENTS": "acme,acme:1:1:1"})
    with pytest.raises(ValueError, match="API_CLIENTS must be NAME or NAME:RATE:BURST:QUOTA"):
        Settings.from_env({"API_CLIENTS": "Acme"})
    with pytest.raises(ValueError, match=r"rate <= API_RATE_LIMIT \(500\)"):
        Settings.from_env({"API_CLIENTS": "acme:501:1:1"})


def test_local_client_keys_are_secret_long_and_of_known_clients():
    from local.config import LocalConfig

    with pytest.raises(ValueError) as caught:
        LocalSettings.from_env({"LOCAL_API_CLIENTS": "acme=short-secret"})
    assert "short-secret" not in str(caught.value)
    config = LocalConfig.from_env(
        {"LOCAL_API_KEY": "first-client-key-0123456789", "LOCAL_API_CLIENTS": "globex=globex-key-0123456789"}
    )
    keys = config.client_keys(["acme", "globex", "initech"])
    assert keys["acme"] == "first-client-key-0123456789"  # LOCAL_API_KEY: the first client's
    assert keys["globex"] == "globex-key-0123456789"
    assert len(keys["initech"]) >= 20 and len(set(keys.values())) == 3
    with pytest.raises(ValueError, match="LOCAL_API_CLIENTS names globex, which the stack's API_CLIENTS"):
        config.client_keys(["acme"])


def test_the_fraud_defaults_are_the_fraud_domain_s_own():
    # The catalog states plain values (settings import nothing of the domain); they must be the domain's.
    s = Settings()
    thresholds = (s.fraud_high_amount, s.fraud_review_threshold, s.fraud_suspected_threshold)
    assert FraudThresholds(*thresholds) == FraudThresholds()
    velocity = VelocityRule(max_transactions=1)
    assert (s.velocity_window_seconds, s.velocity_points) == (velocity.window_seconds, velocity.points)
