"""The one JSON Schema (draft-04) of the POST /transaction body.

The infrastructure feeds `load_transaction_schema()` to the API Gateway request model, the OpenAPI
document is built from it and the validation handler compiles it with fastjsonschema.
Pure file read, cached.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("transaction.schema.json")


@cache
def _load() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


def load_transaction_schema() -> dict[str, Any]:
    """Return (a copy of) the draft-04 JSON Schema of the transaction request body."""
    return copy.deepcopy(_load())
