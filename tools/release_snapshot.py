"""The last release's synthesized stacks, committed under ``releases/last/`` for the upgrade check.

    python -m tools.release_snapshot [--environment dev]

synthesizes the app (``main.py``, the environment's committed file, no variable overriding it) into a
scratch directory and copies what Terraform reads into ``releases/last/``: ``manifest.json`` and each
stack's ``cdk.tf.json`` and ``versions.tf`` (and ``removed.tf`` where the stack has one), byte for byte,
plus ``release.json`` (the environment and the commit it was synthesized from). The Lambda packages
(``assets/``, about 1.5 MB each) are left out: the upgrade check puts a small placeholder zip at each path
the snapshot names (``place_assets``), which is enough to apply the stateful resources the check is
about. ``releases/README.md`` says when to run it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from card_transactions.settings.environments import DEFAULT_ENVIRONMENT, ENVIRONMENT_VARIABLE
from card_transactions.settings.model import settings_of
from card_transactions.stacks.config import Settings

ROOT = Path(__file__).resolve().parent.parent
RELEASE_DIR = ROOT / "releases" / "last"
RELEASE_FILE = "release.json"
STACK_FILES = ("cdk.tf.json", "versions.tf")
OPTIONAL_STACK_FILES = ("removed.tf",)  # stacks.app writes it for a stack that forgets resources
PLACEHOLDER_ENTRY = "index.py"


def synthesize(environment: str, outdir: Path) -> None:
    """``main.py`` for ``environment`` into ``outdir``, with no setting variable overriding the file."""
    setting_variables = {spec.env for spec in settings_of(Settings)}
    env = {name: value for name, value in os.environ.items() if name not in setting_variables}
    env.update({ENVIRONMENT_VARIABLE: environment, "CDKTF_OUTDIR": str(outdir)})
    command = [sys.executable, str(ROOT / "main.py")]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"synth of {environment} failed:\n{done.stdout}\n{done.stderr}")


def write_snapshot(outdir: Path, target: Path, metadata: dict[str, Any]) -> list[Path]:
    """Copy the synth output's manifest and stack files from ``outdir`` into a fresh ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copyfile(outdir / "manifest.json", target / "manifest.json")
    written = [target / "manifest.json"]
    manifest = json.loads((outdir / "manifest.json").read_text())
    for stack in manifest["stacks"].values():
        (target / stack["workingDirectory"]).mkdir(parents=True)
        for name in STACK_FILES + OPTIONAL_STACK_FILES:
            source = outdir / stack["workingDirectory"] / name
            if name in OPTIONAL_STACK_FILES and not source.exists():
                continue
            shutil.copyfile(source, target / stack["workingDirectory"] / name)
            written.append(target / stack["workingDirectory"] / name)
    (target / RELEASE_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return [*written, target / RELEASE_FILE]


def release_environment(release_dir: Path = RELEASE_DIR) -> str:
    """The environment the snapshot was synthesized from."""
    return str(json.loads((release_dir / RELEASE_FILE).read_text())["environment"])


def place_assets(doc: dict[str, Any], stack_dir: Path) -> list[Path]:
    """A small placeholder zip at every local ``source`` path the stack's S3 objects upload."""
    placed = []
    for body in doc.get("resource", {}).get("aws_s3_object", {}).values():
        source = body.get("source")
        if not isinstance(source, str) or source.startswith(("/", "$")):
            continue
        path = stack_dir / source
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(PLACEHOLDER_ENTRY, "def handler(event, context):\n    return None\n")
        placed.append(path)
    return placed


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--environment", default=DEFAULT_ENVIRONMENT, help="environments/<name>.toml")
    parser.add_argument("--target", type=Path, default=RELEASE_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="release-synth-") as scratch:
        synthesize(args.environment, Path(scratch))
        metadata = {"environment": args.environment, "commit": _commit()}
        written = write_snapshot(Path(scratch), args.target, metadata)
    for path in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
