"""The parsed stacks of the session's synths, one per CDK toolkit: every infra test runs on cdktf and on
CDK Terrain (``synth_dir`` and ``cdktn_synth_dir`` live in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.bindings import CDKTF, TOOLKITS
from tests.infra.synth import Stack


@pytest.fixture(scope="session", params=list(TOOLKITS))
def toolkit_synth_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("synth_dir" if request.param == CDKTF.name else "cdktn_synth_dir")


@pytest.fixture(scope="session")
def stack(toolkit_synth_dir: Path) -> Stack:
    return Stack.load(toolkit_synth_dir, TRANSACTION_STACK)


@pytest.fixture(scope="session")
def backend_stack(toolkit_synth_dir: Path) -> Stack:
    return Stack.load(toolkit_synth_dir, STATE_BACKEND_STACK)


OPERATOR_ROLE = "arn:aws:iam::123456789012:role/oncall-operator"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/platform-deployer"
STATE_KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BOUNDARY = "arn:aws:iam::123456789012:policy/workload-boundary"
ONCALL_EMAIL = "payments-oncall@example.com"


@pytest.fixture(scope="session")
def configured_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both stacks synthesized (cdktf) as a production account runs them: the state key, the deploy and
    operator roles, the permissions boundary and an alert address named."""
    from card_transactions.stacks.app import build_app
    from card_transactions.stacks.config import Settings

    outdir = tmp_path_factory.mktemp("configured-synth")
    settings = Settings(
        state_kms_key_arn=STATE_KEY,
        deploy_role_arn=DEPLOY_ROLE,
        operator_role_arn=OPERATOR_ROLE,
        permissions_boundary_arn=BOUNDARY,
        alert_emails=(ONCALL_EMAIL,),
    )
    build_app(settings, outdir=str(outdir)).synth()
    return outdir
