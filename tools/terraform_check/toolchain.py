"""Finds ``terraform`` and a local mirror of the ``hashicorp/aws`` provider, and runs terraform offline.

The mirror is the directory holding ``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``. It comes
from ``TF_PROVIDER_MIRROR`` when set (and must then hold the provider); otherwise from Terraform's implied
local mirror directories, then a bounded search of the usual install roots. Without terraform (in the
range the stacks' ``versions.tf`` requires) or a mirror the check is skipped, with a one-line reason.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.preflight import terraform_problem

MIRROR_SETTING = "TF_PROVIDER_MIRROR"
PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
# Directories below which a mirror is looked for, at most two levels deep (e.g. /opt/tf-plugins).
SEARCH_ROOTS = ("/opt", "/usr/local/share", "/usr/local/lib", "/usr/share", "/usr/lib", "/srv")
SEARCH_DEPTH = 2
# Requests that do not go to moto on 127.0.0.1 are sent to this closed port and fail at once.
CLOSED_PROXY = "http://127.0.0.1:9"
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class ToolchainError(ValueError):
    """A setting points at something unusable (unlike a missing tool, which only skips the check)."""


@dataclass(frozen=True)
class Toolchain:
    """``terraform`` and the provider mirror it installs ``hashicorp/aws`` from."""

    terraform: str
    mirror: Path
    provider_version: str

    def cli_config(self) -> str:
        """A CLI configuration installing ``hashicorp/aws`` from the mirror and nothing from elsewhere."""
        return (
            "# Written by tools/terraform_check: providers come only from the local mirror.\n"
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{self.mirror}"\n'
            f'    include = ["{PROVIDER_ADDRESS}"]\n'
            "  }\n"
            "}\n"
        )

    def environment(self, cli_config: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every terraform call: our CLI config, no checkpoint, no way out."""
        env = dict(os.environ if base is None else base)
        # Credentials come only from the moto override, and nothing of the caller's AWS or Terraform
        # configuration applies (CLI arguments, variables, plugin cache...), except its logging.
        for name in [n for n in env if n.startswith(("AWS_", "TF_")) and not n.startswith("TF_LOG")]:
            del env[name]
        env.update(
            {
                "TF_CLI_CONFIG_FILE": str(cli_config),
                "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "HTTPS_PROXY": CLOSED_PROXY,
                "HTTP_PROXY": CLOSED_PROXY,
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        for name in ("https_proxy", "http_proxy", "no_proxy", "all_proxy", "ALL_PROXY"):
            env.pop(name, None)
        return env


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def provider_versions(mirror: Path, platform_name: str | None = None) -> list[str]:
    """Versions of ``hashicorp/aws`` in ``mirror`` (unpacked layout) built for this platform, oldest first."""
    platform_name = platform_name or os_arch()
    base = mirror / PROVIDER_ADDRESS
    if not base.is_dir():
        return []
    found = [
        d.name
        for d in base.iterdir()
        if _VERSION.match(d.name) and any((d / platform_name).glob("terraform-provider-aws*"))
    ]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def implied_mirrors(environ: Mapping[str, str], home: Path) -> list[Path]:
    """Terraform's implied local mirror directories on Unix, in its own order (without the working
    directory's ``terraform.d/plugins``: the working directory is a fresh scratch copy)."""
    data_home = Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    data_dirs = (environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    return [
        home / ".terraform.d" / "plugins",
        data_home / "terraform" / "plugins",
        *(Path(d) / "terraform" / "plugins" for d in data_dirs if d),
    ]


def searched_mirrors(roots: Sequence[str] = SEARCH_ROOTS, depth: int = SEARCH_DEPTH) -> list[Path]:
    """Directories at most ``depth`` levels below ``roots`` that hold a ``registry.terraform.io`` tree."""
    found = []
    for root in roots:
        for level in range(depth + 1):
            pattern = "/".join(["*"] * level + ["registry.terraform.io"])
            found += sorted(p.parent for p in Path(root).glob(pattern) if p.is_dir())
    return found


def find_mirror(
    environ: Mapping[str, str], home: Path, search_roots: Sequence[str] = SEARCH_ROOTS
) -> Path | None:
    """The mirror to use, or None. A ``TF_PROVIDER_MIRROR`` without the provider is an error."""
    configured = environ.get(MIRROR_SETTING, "").strip()
    if configured:
        mirror = Path(configured).expanduser()
        if not provider_versions(mirror):
            raise ToolchainError(
                f"{MIRROR_SETTING}={configured} holds no {PROVIDER_ADDRESS}/<version>/{os_arch()}/"
                "terraform-provider-aws* (unpacked filesystem-mirror layout)"
            )
        return mirror
    for candidate in [*implied_mirrors(environ, home), *searched_mirrors(search_roots)]:
        if provider_versions(candidate):
            return candidate.resolve()
    return None


def find_toolchain(
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    search_roots: Sequence[str] = SEARCH_ROOTS,
) -> Toolchain | str:
    """The toolchain, or the one-line reason why the check is skipped."""
    environ = os.environ if environ is None else environ
    terraform = shutil.which("terraform", path=environ.get("PATH"))
    if terraform is None:
        return "terraform is not on PATH (https://developer.hashicorp.com/terraform/install)"
    unusable, _ = terraform_problem(environ)  # the version the stacks' versions.tf requires
    if unusable:
        return unusable
    mirror = find_mirror(environ, home or Path.home(), search_roots)
    if mirror is None:
        return (
            f"no local mirror of {PROVIDER_ADDRESS} for {os_arch()} found: set {MIRROR_SETTING} to the "
            "directory holding registry.terraform.io/"
        )
    return Toolchain(terraform=terraform, mirror=mirror, provider_version=provider_versions(mirror)[-1])


@dataclass(frozen=True)
class Result:
    """One finished terraform call."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class TerraformTimeout(RuntimeError):
    pass


def run_terraform(
    toolchain: Toolchain, directory: Path, args: Sequence[str], env: Mapping[str, str], timeout: float
) -> Result:
    """``terraform -chdir=directory args...``, killed with its provider plugins after ``timeout`` seconds."""
    command = [toolchain.terraform, f"-chdir={directory}", *args]
    started = time.monotonic()
    # Its own process group, so that a timeout also stops the provider plugin terraform started.
    process = subprocess.Popen(  # noqa: S603 - fixed executable, arguments built here
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        stdout, stderr = process.communicate()
        raise TerraformTimeout(
            f"terraform {' '.join(args)} in {directory} did not finish within {timeout:.0f} s;"
            f" last output:\n{(stdout + stderr)[-3000:]}"
        ) from None
    return Result(tuple(args), process.returncode, stdout, stderr, time.monotonic() - started)


def _stop_group(process: subprocess.Popen[str]) -> None:
    for sig, grace in ((signal.SIGINT, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
