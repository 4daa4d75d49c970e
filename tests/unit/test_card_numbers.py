"""Card numbers anywhere in a request are refused by field, never echoed; look-alikes are not."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bench.card_corpus import luhn_complete
from card_transactions.handlers.domain.card_numbers import (
    MAX_DIGITS,
    MIN_DIGITS,
    NETWORKS,
    contains_card_number,
    fields_with_card_numbers,
    is_pan,
    luhn_valid,
    network_of,
    refusal_summary,
)
from card_transactions.handlers.domain.errors import CardNumberNotAllowed, ErrorCode
from card_transactions.handlers.domain.transaction import validate_transaction

VALID = {"transaction_id": "txn_1", "merchant_id": "m_1", "amount": Decimal("15.00"), "currency": "USD"}
VISA_13 = "4222222222222"  # Luhn-valid 13 digits
VISA_19 = "4000000000000000006"  # Luhn-valid 19 digits
AMEX = "378282246310005"


def test_network_of_names_the_issuer_by_prefix_and_length():
    assert network_of("4111111111111111") == "Visa"
    assert network_of("2720991234567890") == "Mastercard"
    assert network_of("378282246310005") == "American Express"
    assert network_of("30569309025904") == "Diners Club Carte Blanche"
    assert network_of("3056930902590400") is None  # Carte Blanche numbers have 14 digits
    assert network_of("9111111111111111") is None


def test_an_iban_is_only_spared_when_its_check_digits_hold():
    assert not contains_card_number("DE53 4753 2601 4481 0539 95")
    assert contains_card_number("DE54 4753 2601 4481 0539 95") == contains_card_number(
        "54 4753 2601 4481 0539 95"
    )


@pytest.mark.parametrize("digits", ["4111111111111111", VISA_13, VISA_19, AMEX, "5555555555554444"])
def test_test_card_numbers_are_luhn_valid(digits):
    assert luhn_valid(digits)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111111",
        "4111-1111-1111-1111",
        "4111 1111 1111 1111",
        "4111.1111.1111.1111",
        "4111_1111_1111_1111",
        VISA_13,
        VISA_19,
        "3782 822463 10005",  # Amex grouping 4-6-5
        "paid with card 4111111111111111 yesterday",
        "card:4111-1111-1111-1111;exp=12/27",
        "id_4111111111111111",
        "x4111111111111111y",  # glued to letters: letters end a number, they do not hide it
        "(4111111111111111)",
        "4111111111111111 4111111111111112",
        "4111-1111 1111-1111",  # mixed separators
        "4111  1111\t1111\u00a01111",  # double space, tab, no-break space
        "4111/1111/1111/1111",
        "4111\u200b1111\u200b1111\u200b1111",  # zero-width spaces
        "\uff14\uff11\uff11\uff11" + "\uff11" * 12,  # full-width digits
        "\u0664\u0661\u0661\u0661" + "\u0661" * 12,  # Arabic-Indic digits
        "4111 1111 1111 1111 12/27 123",  # followed by expiry and CVV
        "%B4111111111111111^DOE/JOHN^27121010000000000?",  # Track 1
        ";4111111111111111=27121010000000000?",  # Track 2
        ";1234567890123=2712?",  # Track 2 with a PAN of no known network
        "5555555555554444",  # Mastercard
        "2223003122003222",  # Mastercard 2-series
        "6011111111111117",  # Discover
        "3530111333300000",  # JCB
        "36227206271667",  # Diners Club, 14 digits
        "6200000000000005",  # UnionPay
        "6759649826438453",  # Maestro
        "2200000000000004",  # Mir
    ],
)
def test_card_numbers_are_found(text):
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn-invalid
        "4111-1111-1111-1112",
        "411111111111",  # 12 digits, Luhn-valid
        "41111111111111111111",  # 20 digits: longer than any PAN
        "2024-01-15",
        "2024-01-15T12:30:45.123Z",
        "2024-01-15 12.30.45",  # date-time with mixed separators
        "1,234,567.89",
        "1500.00",
        "+1 (555) 123-4567",
        "order-000123",
        "txn_8537556874694e6b",  # digits pass Luhn but 8537... is no network's prefix
        "4111111111111111".replace("4", "1"),  # no network issues under 1
        "4111111111111111"[:15],  # Visa issues 13, 16 or 19 digits
        "order-1733490123456",  # epoch milliseconds
        "x_1733490123_41",  # epoch seconds and a sequence
        "1865432109876543210",  # 19-digit snowflake
        "+49 158 47172355",  # a phone number in international notation
        "DE53 4753 2601 4481 0539 95",  # an IBAN with a valid check: its digits are not read as a PAN
        "ref 12 4111 1111 1111 1111",  # read from its first digit, this number is 124111... (not a PAN)
        "4111x1111x1111x1111",  # letters between the groups
        "",
    ],
)
def test_look_alikes_are_not_card_numbers(text):
    assert not contains_card_number(text)


def test_fields_are_named_by_path_and_field_names_never_repeated():
    payload = {
        "transaction_id": "4111-1111-1111-1111",
        "metadata": {"note": "card 4111.1111.1111.1111", "ok": "fine", "4111 1111 1111 1111": "v"},
        "nested": {"deeper": [{"x": VISA_19}]},
    }
    assert fields_with_card_numbers(payload) == [
        "transaction_id",
        "metadata.note",
        "metadata",
        "nested.deeper[0].x",
    ]


def _refusal(payload) -> CardNumberNotAllowed:
    with pytest.raises(CardNumberNotAllowed) as caught:
        validate_transaction(payload)
    assert caught.value.code == ErrorCode.CARD_NUMBER_NOT_ALLOWED
    assert "1111" not in json.dumps(caught.value.details) + caught.value.message
    return caught.value


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**VALID, "transaction_id": "4111111111111111"}, "transaction_id"),
        ({**VALID, "transaction_id": "4111-1111-1111-1111"}, "transaction_id"),
        ({**VALID, "merchant_id": "4111_1111_1111_1111"}, "merchant_id"),
        ({**VALID, "currency": "4111 1111 1111 1111"}, "currency"),
        ({**VALID, "metadata": {"note": "card 4111 1111 1111 1111"}}, "metadata.note"),
        ({**VALID, "metadata": {"note": "4111.1111.1111.1111"}}, "metadata.note"),
        ({**VALID, "metadata": {"4111-1111-1111-1111": "x"}}, "metadata"),
        ({**VALID, "metadata": {"a": {"b": [VISA_13]}}}, "metadata.a.b[0]"),
        ({**VALID, "amount": Decimal("4111111111111111")}, "amount"),
        ({**VALID, "4111111111111111": "unknown field"}, ""),
    ],
)
def test_requests_with_card_numbers_are_refused_before_any_other_check(payload, field):
    assert [d["field"] for d in _refusal(payload).details] == [field]


def test_requests_without_card_numbers_pass():
    payload = {**VALID, "metadata": {"order": "2024-01-15 12.30.45", "ref": "411111111111", "n": "1500.00"}}
    assert validate_transaction(payload).metadata["ref"] == "411111111111"


def test_the_docs_say_what_is_refused_as_the_code_does():
    document = (Path(__file__).resolve().parents[2] / "docs" / "card-numbers.md").read_text(encoding="utf-8")
    block = document.split("<!-- card-numbers:summary -->\n", 1)[1]
    summary = block.split("\n<!-- /card-numbers:summary -->")[0]
    assert summary == refusal_summary()
    for network in NETWORKS:
        prefixes = ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in network.prefixes)
        assert f"| {network.name} | {prefixes} |" in document, network.name


def test_the_prefix_table_agrees_with_every_networks_ranges_and_lengths():
    for prefix in range(10_000):
        for length in range(MIN_DIGITS, MAX_DIGITS + 1):
            digits = luhn_complete(f"{prefix:04d}".ljust(length - 1, "0"))
            issued = any(network.issues(digits) for network in NETWORKS)
            assert is_pan(digits) == issued, digits
