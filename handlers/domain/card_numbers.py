"""Card numbers (PANs) and magnetic-stripe data anywhere in a request: found, named by field, never echoed
(PCI DSS 3.3, 3.4).

What is refused (docs/card-numbers.md has the full table and the measured false-positive rate):

- A *PAN*: 12-19 digits whose issuer prefix and length belong to a payment network in ``NETWORKS`` and
  whose last digit is the Luhn check digit of the others.
- Written any way: the text is normalized first (Unicode decimal digits such as full-width or
  Arabic-Indic become ASCII digits; format characters such as the zero-width space or the soft hyphen
  are dropped), then a number is a *run of digit groups*: groups of ASCII digits joined by runs of any
  characters that are neither letters nor digits (spaces, tabs, no-break spaces, ``-``, ``/``, ``.``,
  ``_``, ``:``..., mixed and repeated). A run is read from its first digit, whole groups at a time: when
  its first 12-19 digits are a PAN it is refused, so a PAN followed by an expiry date or a CVV is found;
  a PAN preceded by other digits of the same run (``ref 12 4111 ...``) is not (docs/card-numbers.md).
- Glued to letters: a letter ends a run of groups but does not hide it, so ``card4111111111111111`` and
  ``id_4111111111111111`` are refused; the random part of an id (``txn_8537556874694e6b``) is refused only
  when it is itself a PAN by prefix, length and Luhn, which the network table makes rare.
- Track 1 (``B<PAN>^<NAME>^``) and Track 2 (``<PAN>=<YYMM><service code>`` or ``;<PAN>=``) layouts,
  whatever the PAN's prefix or check digit: full track data is sensitive authentication data.

Not refused: a digit run glued to other digits (a run of more than 19 digits is an id, not a PAN), digits
joined by letters (``4111x1111x1111x1111``), numbers written with non-decimal digit characters such as
superscripts or circled digits, and digit runs whose prefix, length or check digit fit no network.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from card_transactions.handlers.domain.errors import CardNumberNotAllowed

MESSAGE = "Card numbers are not accepted in any field"
MAX_FIELDS, MAX_FIELD_CHARS = 20, 128


@dataclass(frozen=True)
class Network:
    """A payment network: its issuer prefix ranges (inclusive, same width) and its PAN lengths."""

    name: str
    prefixes: tuple[tuple[int, int], ...]
    lengths: tuple[int, ...]

    def issues(self, digits: str) -> bool:
        if len(digits) not in self.lengths:
            return False
        return any(lo <= int(digits[: len(str(lo))]) <= hi for lo, hi in self.prefixes)


_13_16_19 = (13, 16, 19)
_16_19 = (16, 17, 18, 19)
NETWORKS = (
    Network("Visa", ((4, 4),), _13_16_19),
    Network("Mastercard", ((51, 55), (2221, 2720)), (16,)),
    Network("American Express", ((34, 34), (37, 37)), (15,)),
    Network("Discover", ((6011, 6011), (644, 649), (65, 65)), _16_19),
    Network("JCB", ((3528, 3589),), _16_19),
    Network("Diners Club Carte Blanche", ((300, 305),), (14,)),
    Network("Diners Club International", ((3095, 3095), (36, 36), (38, 39)), (14, 15, *_16_19)),
    Network("UnionPay", ((62, 62),), _16_19),
    Network(
        "Maestro",
        ((5018, 5018), (5020, 5020), (5038, 5038), (5893, 5893), (6304, 6304), (6759, 6759), (6761, 6763)),
        (12, 13, 14, 15, *_16_19),
    ),
    Network("Mir", ((2200, 2204),), _16_19),
)
MIN_DIGITS = min(length for network in NETWORKS for length in network.lengths)
MAX_DIGITS = max(length for network in NETWORKS for length in network.lengths)


def _lengths_by_prefix() -> dict[int, frozenset[int]]:
    """The PAN lengths issued under each 4-digit prefix some network uses (every range in ``NETWORKS`` is
    at most 4 digits wide)."""
    table: dict[int, set[int]] = {}
    for network in NETWORKS:
        for lo, hi in network.prefixes:
            scale = 10 ** (4 - len(str(lo)))
            for prefix in range(lo * scale, (hi + 1) * scale):
                table.setdefault(prefix, set()).update(network.lengths)
    return {prefix: frozenset(lengths) for prefix, lengths in table.items()}


_LENGTHS_BY_PREFIX = _lengths_by_prefix()
_DIGIT_CHARS = str.maketrans("", "", "0123456789")
# Groups of ASCII digits joined by runs of characters that are neither letters nor digits ([\W_] in
# Unicode mode); the two classes are disjoint, so matching is linear.
_DIGIT_GROUP_RUN = re.compile(r"[0-9]+(?:[\W_]+[0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")
_PAN_DIGITS = rf"[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}"
# ISO 13616: country, 2 check digits, 11-30 letters or digits, optionally in groups of 4.
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?: ?[0-9A-Z]){11,30}\b")
_TRACK_1 = re.compile(rf"B{_PAN_DIGITS}\^[^^]{{2,26}}\^")  # format code B, PAN, ^, name, ^
# ;PAN= (start sentinel) or PAN=YYMM + service code without sentinels.
_TRACK_2 = re.compile(rf";{_PAN_DIGITS}=|(?<![0-9]){_PAN_DIGITS}=[0-9]{{2}}(?:0[1-9]|1[0-2])[0-9]{{3}}")


def _ranges(network: Network) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in network.prefixes)


def _lengths(network: Network) -> str:
    lengths = network.lengths
    if list(lengths) == list(range(lengths[0], lengths[-1] + 1)) and len(lengths) > 2:
        return f"{lengths[0]}-{lengths[-1]}"
    return ", ".join(map(str, lengths))


def refusal_summary() -> str:
    """What is refused as a card number, in one paragraph (the OpenAPI document and the README quote it)."""
    networks = "; ".join(f"{n.name} {_ranges(n)} ({_lengths(n)} digits)" for n in NETWORKS)
    return (
        "A value is refused as a card number when it holds digits whose issuer prefix and length belong "
        f"to a payment network ({networks}) and whose last digit is their Luhn check digit: written plainly "
        "or in groups joined by any characters that are neither letters nor digits (spaces, tabs, no-break "
        "spaces, '-', '/', '.', '_', mixed), with any Unicode decimal digits (full-width, Arabic-Indic...) "
        "or format characters such as zero-width spaces in between, or glued to letters "
        "('card4111111111111111'), read from the first digit of each such run; and magnetic-stripe Track 1 "
        "or Track 2 data. Not refused: digits glued to other digits (a run longer than 19 digits), digits "
        "after other digits of the same run, a valid IBAN, and a number written '+<digits>' (a phone "
        "number)."
    )


def luhn_valid(digits: str) -> bool:
    checksum = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        checksum += digit
    return checksum % 10 == 0


def is_pan(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only) is a PAN some network in ``NETWORKS`` issues."""
    return len(digits) in _LENGTHS_BY_PREFIX.get(int(digits[:4]), ()) and luhn_valid(digits)


def network_of(digits: str) -> str | None:
    """The name of the network issuing ``digits`` (prefix and length; Luhn not checked), if any."""
    return next((network.name for network in NETWORKS if network.issues(digits)), None)


@lru_cache(maxsize=4096)
def _normal_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Nd":
        return str(unicodedata.decimal(char))
    return "" if category == "Cf" else char


def normalize(text: str) -> str:
    """Unicode decimal digits as ASCII digits; format characters (zero-width space, soft hyphen) dropped."""
    if text.isascii():
        return text
    return "".join(char if char.isascii() else _normal_char(char) for char in text)


def iban_valid(text: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces allowed)."""
    compact = text.replace(" ", "")
    return int("".join(str(int(char, 36)) for char in compact[4:] + compact[:4])) % 97 == 1


def _without_ibans(text: str) -> str:
    return _IBAN.sub(lambda match: " " if iban_valid(match.group()) else match.group(), text)


def _starts_with_pan(run: str) -> bool:
    """True when the first groups of ``run`` (a run of digit groups) spell a PAN."""
    digits = ""
    for group in _DIGIT_GROUP.findall(run):
        digits += group
        if len(digits) > MAX_DIGITS:
            return False
        if len(digits) >= MIN_DIGITS and is_pan(digits):
            return True
    return False


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds a PAN in any writing described in this module's docstring, or track data."""
    text = normalize(text)
    if len(text) - len(text.translate(_DIGIT_CHARS)) < MIN_DIGITS:
        return False
    if ("^" in text and _TRACK_1.search(text)) or ("=" in text and _TRACK_2.search(text)):
        return True
    text = _without_ibans(text)
    return any(
        _starts_with_pan(match.group())
        for match in _DIGIT_GROUP_RUN.finditer(text)
        if match.end() - match.start() >= MIN_DIGITS and text[match.start() - 1 : match.start()] != "+"
    )


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
