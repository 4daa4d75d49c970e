"""Finding terraform and the provider mirror, the offline environment, timeouts and skipping."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.delivery.helpers import fake_executable
from tools.terraform_check import __main__ as cli
from tools.terraform_check.toolchain import (
    CLOSED_PROXY,
    MIRROR_SETTING,
    PROVIDER_ADDRESS,
    TerraformTimeout,
    Toolchain,
    ToolchainError,
    find_mirror,
    find_toolchain,
    os_arch,
    run_terraform,
)
from tools.terraform_check.workdir import PROVIDER_PIN_FILE, endpoint_services, pinned_copy


def fake_terraform(directory: Path, version: str = "1.11.4") -> Path:
    return fake_executable(directory, "terraform", f'print(\'{{"terraform_version": "{version}"}}\')\n')


def mirror_with(root: Path, *versions: str, platform_name: str | None = None) -> Path:
    """A filesystem mirror (unpacked layout) holding fake ``hashicorp/aws`` builds of ``versions``."""
    for version in versions:
        directory = root / PROVIDER_ADDRESS / version / (platform_name or os_arch())
        directory.mkdir(parents=True)
        (directory / f"terraform-provider-aws_v{version}_x5").write_text("")
    return root


def test_the_setting_wins_and_the_newest_version_is_used(tmp_path: Path):
    mirror = mirror_with(tmp_path / "mirror", "5.9.0", "5.100.0")
    mirror_with(tmp_path / "home" / ".terraform.d" / "plugins", "4.0.0")
    terraform = fake_terraform(tmp_path / "bin")
    environ = {"PATH": str(terraform.parent), MIRROR_SETTING: str(mirror)}
    found = find_toolchain(environ, home=tmp_path / "home", search_roots=())
    assert found == Toolchain(str(terraform), mirror, "5.100.0")


def test_a_setting_without_the_provider_is_an_error_not_a_skip(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        ToolchainError, match=f"{MIRROR_SETTING}=.*holds no registry.terraform.io/hashicorp/aws"
    ):
        find_mirror({MIRROR_SETTING: str(tmp_path / "empty")}, home=tmp_path, search_roots=())


def test_terraforms_implied_mirror_directories_are_searched(tmp_path: Path):
    home_plugins = mirror_with(tmp_path / "home" / ".terraform.d" / "plugins", "5.1.0")
    assert find_mirror({}, home=tmp_path / "home", search_roots=()) == home_plugins.resolve()
    xdg = mirror_with(tmp_path / "data" / "terraform" / "plugins", "5.2.0")
    environ = {"XDG_DATA_HOME": str(tmp_path / "data")}
    assert find_mirror(environ, home=tmp_path / "nohome", search_roots=()) == xdg.resolve()


def test_the_bounded_search_finds_a_mirror_two_levels_down_and_no_deeper(tmp_path: Path):
    roots = (str(tmp_path / "opt"),)
    mirror_with(tmp_path / "opt" / "a" / "b" / "c", "5.1.0")  # three levels: not searched
    assert find_mirror({}, home=tmp_path, search_roots=roots) is None
    shallow = mirror_with(tmp_path / "opt" / "tf-plugins", "5.1.0")
    assert find_mirror({}, home=tmp_path, search_roots=roots) == shallow.resolve()


def test_builds_for_another_platform_do_not_count(tmp_path: Path):
    mirror_with(tmp_path / "home" / ".terraform.d" / "plugins", "5.1.0", platform_name="plan9_mips")
    assert find_mirror({}, home=tmp_path / "home", search_roots=()) is None


def test_without_terraform_a_supported_terraform_or_a_mirror_the_check_is_skipped(tmp_path: Path):
    (tmp_path / "bin").mkdir()
    assert "terraform is not on PATH" in str(find_toolchain({"PATH": str(tmp_path / "bin")}, home=tmp_path))
    fake_terraform(tmp_path / "bin", "1.9.8")
    too_old = find_toolchain({"PATH": str(tmp_path / "bin")}, home=tmp_path, search_roots=())
    assert "terraform 1.9.8" in str(too_old) and "too old" in str(too_old)
    fake_terraform(tmp_path / "bin")
    reason = find_toolchain({"PATH": str(tmp_path / "bin")}, home=tmp_path, search_roots=())
    assert isinstance(reason, str)
    assert f"set {MIRROR_SETTING}" in reason


def test_make_tf_check_prints_one_line_and_succeeds_when_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("terraform check skipped: terraform is not on PATH")
    assert out.count("\n") == 1


def test_providers_come_only_from_the_mirror_and_nothing_leaves_the_machine(tmp_path: Path):
    toolchain = Toolchain("terraform", tmp_path / "mirror", "5.100.0")
    config = toolchain.cli_config()
    assert f'path    = "{tmp_path / "mirror"}"' in config
    assert f'include = ["{PROVIDER_ADDRESS}"]' in config
    assert "direct" not in config and "network_mirror" not in config
    env = toolchain.environment(
        tmp_path / "rc",
        {
            "PATH": "/bin",
            "AWS_PROFILE": "prod",
            "TF_CLI_CONFIG_FILE": "/nope",
            "https_proxy": "http://corp:3128",
            "TF_CLI_ARGS_plan": "-refresh=false",
            "TF_LOG": "DEBUG",
        },
    )
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "rc")
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == CLOSED_PROXY
    assert "AWS_PROFILE" not in env and "https_proxy" not in env and "TF_CLI_ARGS_plan" not in env
    assert env["TF_LOG"] == "DEBUG"
    assert env["PATH"] == "/bin"


def test_every_aws_call_of_the_provider_itself_goes_to_moto():
    assert endpoint_services(["aws_s3_bucket", "aws_partition"]) == ["iam", "s3", "sts"]
    with pytest.raises(ValueError, match="no moto endpoint known for aws_secretsmanager_secret"):
        endpoint_services(["aws_secretsmanager_secret"])


def test_a_terraform_call_that_hangs_is_stopped_with_its_children(tmp_path: Path):
    marker = tmp_path / "child.pid"
    terraform = fake_executable(
        tmp_path / "bin",
        "terraform",
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )
    toolchain = Toolchain(str(terraform), tmp_path, "5.100.0")
    started = time.monotonic()
    with pytest.raises(TerraformTimeout, match="did not finish within 2 s"):
        run_terraform(toolchain, tmp_path, ["apply"], os.environ, timeout=2)
    assert time.monotonic() - started < 15
    child = int(marker.read_text())
    for _ in range(50):  # the plugin-like grandchild is gone too
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"process {child} survived the timeout")


def test_a_copy_for_validation_pins_the_mirrored_provider_whatever_the_stack_is_written_in(tmp_path: Path):
    stack = tmp_path / "hcl-stack"
    (stack / ".terraform").mkdir(parents=True)
    (stack / "cdk.tf").write_text("# the stack\n")
    stale = tmp_path / "copy"
    (stale / "left-over").mkdir(parents=True)
    pinned_copy(stack, stale, "5.100.0")
    assert sorted(p.name for p in stale.iterdir()) == ["cdk.tf", PROVIDER_PIN_FILE]
    assert json.loads((stale / PROVIDER_PIN_FILE).read_text()) == {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}
    }
