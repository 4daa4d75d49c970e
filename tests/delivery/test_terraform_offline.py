"""Finding the provider mirror and preparing an offline Terraform run (tools/terraform_offline.py)."""

from __future__ import annotations

import json

import pytest

from tools.terraform_offline import (
    MIRROR_ENV,
    OVERRIDE_FILE,
    PROVIDER,
    cli_config,
    discover_mirror,
    find_mirror,
    platform_dir,
    prepare_scratch_copy,
    provider_versions,
)


def make_mirror(root, *versions):
    for version in versions:
        (root / PROVIDER / version / platform_dir()).mkdir(parents=True)
    return root


def test_versions_are_those_built_for_this_platform_oldest_first(tmp_path):
    mirror = make_mirror(tmp_path, "5.100.0", "5.9.0")
    (tmp_path / PROVIDER / "6.0.0" / "plan9_mips").mkdir(parents=True)
    assert provider_versions(mirror) == ["5.9.0", "5.100.0"]
    assert provider_versions(tmp_path / "elsewhere") == []


def test_a_mirror_is_discovered_within_three_levels_only(tmp_path):
    make_mirror(tmp_path / "a" / "b" / "deep" / "mirror", "5.100.0")
    assert discover_mirror(tmp_path) is None
    shallow = make_mirror(tmp_path / "opt" / "tf-plugins", "5.100.0")
    assert discover_mirror(tmp_path) == shallow


def test_the_setting_wins_and_must_hold_the_provider(tmp_path):
    mirror = make_mirror(tmp_path / "mine", "5.100.0")
    assert find_mirror({MIRROR_ENV: str(mirror)}) == mirror
    with pytest.raises(ValueError, match=rf"{MIRROR_ENV}=.*empty holds no {PROVIDER}"):
        find_mirror({MIRROR_ENV: str(tmp_path / "empty")})


def test_the_cli_config_installs_only_the_aws_provider_and_only_from_the_mirror(tmp_path):
    config = cli_config(tmp_path)
    assert f'path    = "{tmp_path}"' in config
    assert f'include = ["{PROVIDER}"]' in config
    assert f'direct {{\n    exclude = ["{PROVIDER}"]' in config


def test_the_scratch_copy_pins_the_provider_to_the_mirrored_version(tmp_path):
    stack = tmp_path / "stack"
    (stack / ".terraform").mkdir(parents=True)
    (stack / "cdk.tf").write_text("# the stack\n")
    scratch = prepare_scratch_copy(stack, tmp_path / "scratch", "5.100.0")
    assert (scratch / "cdk.tf").read_text() == "# the stack\n"
    assert not (scratch / ".terraform").exists()
    override = json.loads((scratch / OVERRIDE_FILE).read_text())
    assert override == {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}
    }
