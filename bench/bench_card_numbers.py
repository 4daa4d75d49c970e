"""Card-number detection: recall, false positives and cost per request, against the Luhn-only baseline.

Recall runs over every writing of every network's PANs in every place of a request, false positives
over the realistic merchant values of ``bench/card_corpus.py`` (the corpus the test suite checks). Cost:
``fields_with_card_numbers`` over realistic request bodies (ids, amounts and five metadata values drawn
from the merchant corpus), ASCII-only and with non-ASCII metadata, median of several runs; baseline in the
same run: the Luhn-only detector on the same bodies, and ``json.loads`` of them.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bench import card_numbers_luhn_only
from bench.card_corpus import MERCHANT_CLASSES, card_number_encodings, merchant_values
from bench.report import Section, print_section
from card_transactions.handlers.domain.card_numbers import contains_card_number, fields_with_card_numbers
from card_transactions.handlers.domain.errors import RequestRefused
from card_transactions.handlers.domain.transaction import validate_transaction

REQUESTS = 2000
NON_ASCII_NOTES = (
    "Lieferung an Müller, Straße 12",
    "配送先: 東京都 1-2-3",
    "العنوان ٣ شارع",
    "Zoë\u2019s order\u200b",
)


def _fields_luhn_only(value: Any, field: str = "") -> list[str]:
    """The baseline's field walk (the same walk as today's, with the baseline's text check)."""
    if isinstance(value, str):
        return [field] if card_numbers_luhn_only.contains_card_number(value) else []
    if isinstance(value, dict):
        found = [field for key in value if card_numbers_luhn_only.contains_card_number(str(key))]
        return found + [f for key, item in value.items() for f in _fields_luhn_only(item, f"{field}.{key}")]
    return []


def _requests(non_ascii: bool, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    values = [value for _, value in merchant_values(seed, per_class=200)]
    bodies = []
    for index in range(REQUESTS):
        metadata = {f"k{n}": rng.choice(values) for n in range(5)}
        if non_ascii:
            metadata["note"] = rng.choice(NON_ASCII_NOTES)
        bodies.append(
            {
                "transaction_id": f"order-{1733490000000 + index}",
                "merchant_id": f"merchant_{rng.randrange(1000):03d}",
                "amount": f"{rng.randrange(1, 10**6) / 100:.2f}",
                "currency": "USD",
                "metadata": metadata,
            }
        )
    return bodies


def _us_per_request(check: Callable[[Any], object], bodies: list[Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for body in bodies:
            check(body)
        samples.append((time.perf_counter() - start) / len(bodies) * 1e6)
    return statistics.median(samples)


def _validate(body: Any) -> None:
    with contextlib.suppress(RequestRefused):
        validate_transaction(body)


def _schema_validation_row(repeats: int) -> list[object]:
    """What validating the body in the function costs, now that API Gateway's validator does not (its
    messages would quote request values into the execution log): the whole validation, card numbers
    included, of valid bodies and of bodies the schema refuses."""
    valid = [{**body, "amount": Decimal(body["amount"])} for body in _requests(non_ascii=False)]
    invalid = [{**body, "currency": body["currency"].lower()} for body in valid]
    ok = _us_per_request(_validate, valid, repeats)
    refused = _us_per_request(_validate, invalid, repeats)
    return [
        "whole validation in the function us per request",
        f"{ok:.1f}",
        f"schema-invalid: {refused:.1f}",
        "-",
    ]


def _recall() -> tuple[int, int]:
    encodings = card_number_encodings()
    return sum(bool(fields_with_card_numbers(e.payload)) for e in encodings), len(encodings)


def run(repeats: int = 7) -> Section:
    found, encodings = _recall()
    baseline_found = sum(bool(_fields_luhn_only(e.payload)) for e in card_number_encodings())
    values = list(merchant_values())
    refused = Counter(kind for kind, value in values if contains_card_number(value))
    refused_before = Counter(
        kind for kind, value in values if card_numbers_luhn_only.contains_card_number(value)
    )
    per_class = len(values) // len(MERCHANT_CLASSES)
    rows: list[list[object]] = [
        [
            "recall over card-number encodings",
            f"{found}/{encodings}",
            f"{found / encodings:.3%}",
            f"{baseline_found / encodings:.3%}",
        ],
        [
            "false positives, all merchant values",
            f"{sum(refused.values())}/{len(values)}",
            f"{sum(refused.values()) / len(values):.3%}",
            f"{sum(refused_before.values()) / len(values):.3%}",
        ],
    ]
    rows += [
        [
            f"false positives, {kind}",
            f"{refused[kind]}/{per_class}",
            f"{refused[kind] / per_class:.2%}",
            f"{refused_before[kind] / per_class:.2%}",
        ]
        for kind in MERCHANT_CLASSES
    ]
    for label, non_ascii in (("ASCII", False), ("with non-ASCII metadata", True)):
        bodies = _requests(non_ascii)
        texts = [json.dumps(body) for body in bodies]
        new = _us_per_request(fields_with_card_numbers, bodies, repeats)
        old = _us_per_request(_fields_luhn_only, bodies, repeats)
        parse = _us_per_request(json.loads, texts, repeats)
        rows.append(
            [
                f"detection us per request, {label}",
                f"{new:.1f}",
                f"{new / old:.2f}x Luhn-only",
                f"{old:.1f} (json.loads {parse:.1f}; {new / parse:.1f}x)",
            ]
        )
    rows.append(_schema_validation_row(repeats))
    fp_rate = sum(refused.values()) / len(values)
    section = Section(
        title="Card-number detection: recall, false positives, cost",
        header=["measure", "count or us", "issuer table + Luhn", "Luhn only (baseline)"],
        rows=rows,
        notes=[
            f"{encodings} encodings: every network, length and prefix-range end in every writing and place"
            f" of bench/card_corpus.py; merchant values: {per_class} per class, seeded.",
            f"targets: recall 100% ({'met' if found == encodings else 'NOT met'}), false positives <= 0.1% "
            f"({'met' if fp_rate <= 0.001 else 'NOT met'}).",
            f"cost: {REQUESTS} request bodies (5 metadata values from the merchant corpus each), median of"
            f" {repeats} runs; the walk over the decoded body the validation function runs on every request.",
        ],
        headlines={
            "card numbers": f"recall {found / encodings:.1%}, false positives {fp_rate:.3%} "
            f"(Luhn only: {sum(refused_before.values()) / len(values):.1%})"
        },
    )
    return section


if __name__ == "__main__":
    print_section(run())
