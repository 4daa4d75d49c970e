"""The parsed stacks of the session's synth (``synth_dir`` in ``tests/conftest.py``).

The infra tests read the cdktf synth only: ``test_cdk_terrain.py`` proves CDK Terrain writes the same
files, every ``cdk.tf.json`` equal but for the documented version keys, so running each property test
on both outputs would test the same JSON twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from tests.infra.synth import Stack


@pytest.fixture(scope="session")
def stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, TRANSACTION_STACK)


@pytest.fixture(scope="session")
def backend_stack(synth_dir: Path) -> Stack:
    return Stack.load(synth_dir, STATE_BACKEND_STACK)


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
