"""Fixtures for the delivery tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture
def offline_terraform(tmp_path: Path) -> dict[str, str]:
    """Environment for a real ``terraform`` that cannot reach a registry (providers: an empty mirror)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed (CI installs it with hashicorp/setup-terraform)")
    mirror = tmp_path / "provider-mirror"
    mirror.mkdir()
    config = tmp_path / "offline.tfrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["*/*/*"]\n  }\n}\n'
    )
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
