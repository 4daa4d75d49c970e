"""The synthesized transaction stack the local runtime runs: synthesized on demand, cached by fingerprint.

``LOCAL_STACK_JSON`` points at an existing ``cdk.tf.json`` and skips synthesis. Otherwise ``main.py``
runs (in a subprocess, ``CDKTF_OUTDIR`` redirected) into ``build/local/synth/<fingerprint>/``, where the
fingerprint covers the app's source (``main.py``, ``stacks/``, ``settings/``, the fraud defaults and the
request schema), the environment files (``environments/``, ``DEPLOY_ENV`` picks one) and every synth
setting variable present in the environment. An unchanged app with
unchanged settings starts without synthesizing again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from card_transactions.settings.catalog import Settings
from card_transactions.settings.environments import ENVIRONMENT_VARIABLE
from card_transactions.settings.system import TRANSACTION_STACK
from local.config import LocalSettings

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "local" / "synth"
KEEP = 8


def fingerprint(environ: Mapping[str, str], root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    domain = root / "handlers" / "domain"
    sources = [root / "main.py", domain / "transaction.schema.json", domain / "fraud.py"]
    sources += sorted((root / "stacks").rglob("*.py")) + sorted((root / "settings").rglob("*.py"))
    sources += sorted((root / "environments").glob("*.toml"))
    for path in sources:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for name in (*Settings.variables(), ENVIRONMENT_VARIABLE):
        digest.update(f"{name}={environ.get(name, '').strip()}\0".encode())
    return digest.hexdigest()[:20]


def stack_json(environ: Mapping[str, str], *, log: Callable[[str], None] = print) -> Path:
    """Path of the transaction stack's ``cdk.tf.json`` for these settings (synthesizing when needed)."""
    explicit = LocalSettings.from_env(environ).stack_json
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"LOCAL_STACK_JSON points at {explicit!r}, which is not a file")
        return path
    target = CACHE / fingerprint(environ)
    result = target / "stacks" / TRANSACTION_STACK / "cdk.tf.json"
    if result.is_file():
        os.utime(target)  # most recently used, for pruning
        return result
    log("Synthesizing the stack for these settings (cached in build/local/synth) ...")
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="synth-", dir=CACHE))
    env = {**environ, "CDKTF_OUTDIR": str(scratch), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    done = subprocess.run(
        [sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise RuntimeError(f"synth failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    for assets in scratch.glob("stacks/*/assets"):  # Lambda zips: not needed to run locally
        shutil.rmtree(assets, ignore_errors=True)
    try:
        os.replace(scratch, target)
    except OSError:  # another process cached the same fingerprint first
        shutil.rmtree(scratch, ignore_errors=True)
    _prune(keep=KEEP)
    return result


def _prune(keep: int) -> None:
    """Keep the ``keep`` most recent synthesized stacks."""
    entries = sorted(
        (p for p in CACHE.iterdir() if p.is_dir() and not p.name.startswith("synth-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[keep:]:
        shutil.rmtree(stale, ignore_errors=True)
