"""Reading synthesized Terraform JSON in tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_]+)\.")


@dataclass(frozen=True)
class Stack:
    """One synthesized stack: its ``cdk.tf.json`` as a dict, with lookups by type and construct path."""

    doc: dict[str, Any]

    @classmethod
    def load(cls, outdir: Path, name: str) -> Stack:
        return cls(json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()))

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("resource", {}).get(kind, {})

    def data(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("data", {}).get(kind, {})

    def by_path(self, kind: str, path_suffix: str) -> dict[str, Any]:
        """The one resource of ``kind`` whose construct path ends with ``path_suffix``."""
        found = [
            body
            for body in self.resources(kind).values()
            if body["//"]["metadata"]["path"].endswith(path_suffix)
        ]
        assert len(found) == 1, f"expected one {kind} at */{path_suffix}, found {len(found)}"
        return found[0]

    def logical_id(self, kind: str, path_suffix: str) -> str:
        body = self.by_path(kind, path_suffix)
        return body["//"]["metadata"]["uniqueId"]

    def ref(self, kind: str, path_suffix: str, attribute: str) -> str:
        """The interpolation another resource uses to refer to this one's ``attribute``."""
        return f"${{{kind}.{self.logical_id(kind, path_suffix)}.{attribute}}}"

    def policy_document(self, reference: str) -> dict[str, Any]:
        """The policy document a ``${data.aws_iam_policy_document.X.json}`` reference points at."""
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_]+)\.json\}", reference)
        assert match, f"not a policy document reference: {reference!r}"
        return self.data("aws_iam_policy_document")[match.group(1)]
