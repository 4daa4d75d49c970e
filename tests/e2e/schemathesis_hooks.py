"""schemathesis hooks (``SCHEMATHESIS_HOOKS``) of the contract fuzz test (tests/e2e/test_contract_fuzz.py).

Both keep a generated body exactly as valid or invalid as it was, so every check still judges it:

* ``amount``: the one rule of the API that JSON Schema cannot state exactly is "at most 2 decimal places"
  (``multipleOf: 0.01`` is inexact in floating-point validators: 19.99 / 0.01 is not an integer there).
  The document states it in the field's description and the 400's, and a client rounds to cents before
  sending; so does this hook, for an amount that is valid otherwise (and stays valid: at least 0.01).
* ``merchant_id``: three in four schema-valid ids become a seeded merchant's, so valid submissions reach
  the merchant checks and the scoring path, and POST answers 202 for the stateful links to follow; the
  rest stay unknown merchants (422, documented).
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import schemathesis

SEEDED_MERCHANTS = ("merchant_001", "merchant_002", "merchant_003")  # local/seed.py, active
MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_AMOUNT = Decimal(1_000_000_000)
CENT = Decimal("0.01")


def _in_cents(amount: Any) -> Any:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return amount
    exact = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    if not exact.is_finite() or not 0 < exact <= MAX_AMOUNT or exact == exact.quantize(CENT):
        return amount
    rounded = max(exact.quantize(CENT, rounding=ROUND_HALF_EVEN), CENT)  # 5e-324 -> 0.01, still > 0
    return float(rounded)


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if "amount" in body:
        body["amount"] = _in_cents(body["amount"])
    merchant_id = body.get("merchant_id")
    if isinstance(merchant_id, str) and MERCHANT_ID.fullmatch(merchant_id):
        digest = hashlib.sha256(merchant_id.encode()).digest()[0]
        if digest % 4:
            body["merchant_id"] = SEEDED_MERCHANTS[digest % len(SEEDED_MERCHANTS)]
    return body
