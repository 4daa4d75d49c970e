"""Real ``terraform init`` + ``validate`` without a network: the AWS provider from a filesystem mirror.

The mirror is a directory holding ``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``: the one
named by ``TF_PROVIDER_MIRROR``, else the first found within three levels of ``/``. A stack is validated
in a scratch copy, with an override file pinning the provider to the mirrored version and
``init -backend=false`` (so no state bucket is needed), under a CLI configuration of our own that
installs the provider from the mirror only (Terraform links it, nothing is copied).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

MIRROR_ENV = "TF_PROVIDER_MIRROR"
PROVIDER = "registry.terraform.io/hashicorp/aws"
OVERRIDE_FILE = "provider_mirror_override.tf.json"
CLI_CONFIG_FILE = "terraform-mirror.tfrc"
_NOT_SEARCHED = frozenset({"/proc", "/sys", "/dev", "/run"})
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def platform_dir() -> str:
    """Terraform's name for this machine's platform, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    return f"{platform.system().lower()}_{_ARCH.get(machine, machine)}"


def provider_versions(mirror: Path) -> list[str]:
    """Versions of the AWS provider the mirror holds for this platform, oldest first."""
    base = mirror / PROVIDER
    versions = [p.name for p in base.iterdir() if (p / platform_dir()).is_dir()] if base.is_dir() else []
    return sorted(versions, key=lambda v: tuple(int(part) for part in v.split(".") if part.isdigit()))


def discover_mirror(root: Path = Path("/"), depth: int = 3) -> Path | None:
    """The first directory within ``depth`` levels of ``root`` whose mirror has the AWS provider."""
    level = [root]
    for _ in range(depth + 1):
        below = []
        for directory in level:
            if provider_versions(directory):
                return directory
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            below += [
                Path(e.path)
                for e in sorted(entries, key=lambda e: e.name)
                if e.is_dir(follow_symlinks=False) and e.path not in _NOT_SEARCHED
            ]
        level = below
    return None


def find_mirror(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``TF_PROVIDER_MIRROR`` when set (it must hold the provider), else a discovered mirror."""
    if environ.get(MIRROR_ENV):
        mirror = Path(environ[MIRROR_ENV])
        if not provider_versions(mirror):
            raise ValueError(f"{MIRROR_ENV}={mirror} holds no {PROVIDER} for {platform_dir()}")
        return mirror
    return discover_mirror()


def unavailable_reason(environ: Mapping[str, str] = os.environ) -> str | None:
    """Why offline validation cannot run here, or None when it can."""
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    if find_mirror(environ) is None:
        return f"no filesystem mirror with {PROVIDER} found (set {MIRROR_ENV})"
    return None


def cli_config(mirror: Path) -> str:
    """A Terraform CLI configuration that installs the AWS provider from ``mirror`` and nothing else."""
    return (
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n"
        f'    include = ["{PROVIDER}"]\n  }}\n'
        f'  direct {{\n    exclude = ["{PROVIDER}"]\n  }}\n'
        "}\n"
    )


def prepare_scratch_copy(stack_dir: Path, scratch: Path, provider_version: str) -> Path:
    """A copy of ``stack_dir`` whose AWS provider requirement is ``provider_version``."""
    shutil.copytree(stack_dir, scratch, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    pin = {"source": "hashicorp/aws", "version": provider_version}
    (scratch / OVERRIDE_FILE).write_text(json.dumps({"terraform": {"required_providers": {"aws": pin}}}))
    return scratch


def terraform(args: list[str], cwd: Path, mirror: Path) -> subprocess.CompletedProcess[str]:
    """Run terraform in ``cwd`` with the mirror-only CLI configuration (written beside ``cwd``)."""
    config = cwd.parent / CLI_CONFIG_FILE
    config.write_text(cli_config(mirror))
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    program = shutil.which("terraform")
    if program is None:
        raise FileNotFoundError("terraform is not on PATH")
    return subprocess.run(  # noqa: S603 - terraform with fixed subcommands
        [program, *args, "-no-color"], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def validate(stack_dir: Path, scratch: Path, mirror: Path) -> subprocess.CompletedProcess[str]:
    """``terraform init -backend=false`` + ``validate -json`` of a scratch copy of ``stack_dir``."""
    version = provider_versions(mirror)[-1]
    prepare_scratch_copy(stack_dir, scratch, version)
    init = terraform(["init", "-backend=false", "-input=false"], scratch, mirror)
    if init.returncode != 0:
        return init
    return terraform(["validate", "-json"], scratch, mirror)
