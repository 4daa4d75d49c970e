"""Card numbers anywhere in a request are refused by field, never echoed; look-alikes are not."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from handlers.domain.card_numbers import contains_card_number, fields_with_card_numbers, luhn_valid
from handlers.domain.errors import CardNumberNotAllowed, ErrorCode
from handlers.domain.transaction import validate_transaction

VALID = {"transaction_id": "txn_1", "merchant_id": "m_1", "amount": Decimal("15.00"), "currency": "USD"}
VISA_13 = "4222222222222"  # Luhn-valid 13 digits
VISA_19 = "4000000000000000006"  # Luhn-valid 19 digits
AMEX = "378282246310005"


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
        "ref 12 4111 1111 1111 1111",  # other digits before the card, same separator
        "id_4111111111111111",
        "(4111111111111111)",
        "4111111111111111 4111111111111112",
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
        "txn_8537556874694e6b",  # a random hex id whose digits happen to pass Luhn
        "x4111111111111111y",  # glued to letters: part of a token, not a written card number
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
