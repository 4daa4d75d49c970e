"""Card numbers (PANs) anywhere in a request: found, named by field, never echoed (PCI DSS 3.3, 3.4).

A PAN-like value is a run of 13-19 digits that passes the Luhn check, written plainly
(``4111111111111111``) or in groups joined by one kind of separator (``4111 1111 1111 1111``,
``4111-1111-1111-1111``, ``4111.1111.1111.1111``, ``4111_1111_1111_1111``), alone or inside longer
text, as long as no letter or digit is glued to it: the random part of an id (``txn_8537556874694e6b``)
is not taken for a card number. Within a run of groups every contiguous stretch of whole groups
holding 13-19 digits is tried, so a number prefixed by other digits (``ref 12 4111 1111 1111 1111``)
is still found; a plain run of more than 19 digits is not a card number. Groups joined by different
separators do not form one candidate, which keeps date-times such as ``2024-01-15 12.30.45`` from
tripping the check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from handlers.domain.errors import CardNumberNotAllowed

MIN_DIGITS, MAX_DIGITS = 13, 19
SEPARATORS = " .-_"
# A run stands alone: no letter or digit right before or after it (punctuation, spaces, "_" are fine).
_PLAIN_RUN = re.compile(rf"(?<![0-9A-Za-z])[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}(?![0-9A-Za-z])")
_GROUPED_RUNS = tuple(
    re.compile(rf"(?<![0-9A-Za-z])[0-9]+(?:{re.escape(sep)}[0-9]+)+(?![0-9A-Za-z])") for sep in SEPARATORS
)
MESSAGE = "Card numbers are not accepted in any field"
MAX_FIELDS, MAX_FIELD_CHARS = 20, 128


def luhn_valid(digits: str) -> bool:
    checksum = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        checksum += digit
    return checksum % 10 == 0


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


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return None


def fields_with_card_numbers(value: Any, field: str = "") -> list[str]:
    """The fields of a decoded JSON value holding a card number: ``metadata.note``, ``items[2]``; a
    field whose *name* holds one is reported by its parent's path (the name is never repeated)."""
    text = _scalar_text(value)
    if text is not None:
        return [field] if contains_card_number(text) else []
    found: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if contains_card_number(str(key)):
                found.append(field)
                continue
            found += fields_with_card_numbers(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += fields_with_card_numbers(item, f"{field}[{index}]")
    return found


def refuse_card_numbers(value: Any, field: str = "") -> None:
    """Raise ``CardNumberNotAllowed`` naming each field of ``value`` that holds a card number."""
    fields = fields_with_card_numbers(value, field)
    if fields:
        details = [
            {"field": name[:MAX_FIELD_CHARS], "message": "must not contain a card number"}
            for name in list(dict.fromkeys(fields))[:MAX_FIELDS]
        ]
        raise CardNumberNotAllowed(MESSAGE, details)
