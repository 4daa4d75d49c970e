"""Resource types that hold data or state nobody can recreate, the planned changes that would lose it,
and the allow-list of intended losses.

The one list (``STATEFUL_TYPES``) and the one allow-list (``ALLOW_LIST``), read by the plan guard
(``tools/plan_comment.py``: the pull-request comment, its SARIF and the workflow's failure) and by the
upgrade check (``tools/terraform_check/upgrade.py``). A planned ``delete`` of a resource of these types,
alone or as half of a replacement, is destructive: Terraform would destroy it and, for a replacement,
create an empty one in its place.

Left out on purpose: ``aws_kms_alias`` (a name pointing at a key; recreating it loses nothing, the key and
its ciphertexts stay), ``aws_s3_object`` (the function packages, rebuilt from source on every synth),
usage plans, policies, alarms and the network (configuration, recreated as it was).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Intended losses: entries (environment, stack, address, reason) that the plan guard and the upgrade
# check accept.
ALLOW_LIST = ROOT / ".github" / "allowed-destroys.toml"
ALLOW_KEYS = frozenset({"environment", "stack", "address", "reason"})
MIN_REASON_CHARS = 20

STATEFUL_TYPES: Mapping[str, str] = {
    "aws_dynamodb_table": "its items: processed transactions, merchant configuration, the state lock",
    "aws_sqs_queue": "the messages in it, waiting transactions and dead letters",
    "aws_kms_key": "every ciphertext under it: a new key cannot decrypt tables, queues, logs or state "
    "written with the old one, which is scheduled for deletion",
    "aws_s3_bucket": "its objects: Terraform state, access logs, function packages",
    "aws_cloudwatch_log_group": "the logs kept a year for PCI DSS 10.5.1",
    "aws_sns_topic": "its confirmed subscriptions: alerts go nowhere until every address confirms again",
    "aws_api_gateway_api_key": "the key value the API clients hold: every merchant call gets 403",
    "aws_secretsmanager_secret": "the secret value and its versions",
}


@dataclass(frozen=True)
class Destructive:
    """A planned replacement or deletion of a stateful resource."""

    address: str
    resource_type: str
    action: str  # "replace" or "delete"

    def describe(self) -> str:
        return f"{self.address}: {self.action} (loses {STATEFUL_TYPES[self.resource_type]})"


def destructive_changes(plan: Mapping[str, Any]) -> list[Destructive]:
    """The replacements and deletions of stateful resources in a ``terraform show -json`` plan."""
    return sorted(_destructive(plan), key=lambda d: d.address)


def _destructive(plan: Mapping[str, Any]) -> Iterator[Destructive]:
    for change in plan.get("resource_changes", []):
        kind = change.get("type", "")
        actions = change.get("change", {}).get("actions", [])
        managed = change.get("mode", "managed") == "managed"
        if not managed or kind not in STATEFUL_TYPES or "delete" not in actions:
            continue
        yield Destructive(change["address"], kind, "replace" if "create" in actions else "delete")


@dataclass(frozen=True)
class Allowed:
    """An allow-list entry: this planned replacement or deletion is intended."""

    environment: str
    stack: str
    address: str
    reason: str


def load_allow_list(path: Path = ALLOW_LIST) -> list[Allowed]:
    """The entries of ``path`` (``[[allow]]`` tables); a ValueError names the file and the bad entry."""
    if not path.exists():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path.name} is not valid TOML: {error}") from None
    if set(doc) - {"allow"} or not isinstance(doc.get("allow", []), list):
        raise ValueError(f"{path.name}: only [[allow]] entries belong here, got {sorted(doc)}")
    entries = []
    for number, entry in enumerate(doc.get("allow", []), start=1):
        if not isinstance(entry, dict) or set(entry) != ALLOW_KEYS:
            keys = sorted(entry) if isinstance(entry, dict) else entry
            raise ValueError(
                f"{path.name}: allow entry {number} needs exactly {sorted(ALLOW_KEYS)}, got {keys}"
            )
        if not all(isinstance(value, str) and value.strip() for value in entry.values()):
            raise ValueError(f"{path.name}: allow entry {number} has an empty or non-string value")
        if len(entry["reason"].strip()) < MIN_REASON_CHARS:
            raise ValueError(
                f"{path.name}: allow entry {number} ({entry['address']}) needs a reason of at least "
                f"{MIN_REASON_CHARS} characters, got {entry['reason']!r}"
            )
        entries.append(Allowed(**{key: value.strip() for key, value in entry.items()}))
    return entries
