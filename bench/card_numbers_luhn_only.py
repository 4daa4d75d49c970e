"""The card-number detector the project used before the issuer table: Luhn on every 13-19 digit run,
plain or grouped by one separator. Kept only as the same-run baseline of ``bench_card_numbers``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from card_transactions.handlers.domain.card_numbers import luhn_valid

MIN_DIGITS, MAX_DIGITS = 13, 19
SEPARATORS = " .-_"
# A run stands alone: no letter or digit right before or after it (punctuation, spaces, "_" are fine).
_PLAIN_RUN = re.compile(rf"(?<![0-9A-Za-z])[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}(?![0-9A-Za-z])")
_GROUPED_RUNS = tuple(
    re.compile(rf"(?<![0-9A-Za-z])[0-9]+(?:{re.escape(sep)}[0-9]+)+(?![0-9A-Za-z])") for sep in SEPARATORS
)


def _grouped_candidates(groups: list[str]) -> Iterator[str]:
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS:
                yield digits


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds a Luhn-valid 13-19 digit run, plain or grouped by one separator."""
    if sum(char.isdigit() for char in text) < MIN_DIGITS:
        return False
    if any(luhn_valid(match.group()) for match in _PLAIN_RUN.finditer(text)):
        return True
    for separator, pattern in zip(SEPARATORS, _GROUPED_RUNS, strict=True):
        for match in pattern.finditer(text):
            if any(luhn_valid(c) for c in _grouped_candidates(match.group().split(separator))):
                return True
    return False
