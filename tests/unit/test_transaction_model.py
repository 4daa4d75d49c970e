"""The transaction model: the one JSON Schema, the domain checks, body decoding and the canonical hash."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import fastjsonschema
import pytest

from card_transactions.handlers.domain.errors import InvalidJson, PayloadTooLarge, ValidationFailed
from card_transactions.handlers.domain.schema import SCHEMA_PATH, load_transaction_schema
from card_transactions.handlers.domain.transaction import decode_body, validate_transaction

D = Decimal
VALID = {"transaction_id": "txn_1", "merchant_id": "merchant_001", "amount": D("1500.00"), "currency": "USD"}


def fields_of(exc: ValidationFailed) -> set[str]:
    return {d["field"] for d in exc.details}


def test_schema_is_draft_04_and_closed():
    schema = load_transaction_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["transaction_id", "merchant_id", "amount", "currency"]
    assert schema["properties"]["metadata"]["maxProperties"] == 10
    assert json.loads(SCHEMA_PATH.read_text()) == schema
    schema["required"].append("mutated")  # callers get a copy
    assert "mutated" not in load_transaction_schema()["required"]


def test_fastjsonschema_accepts_decimal_for_number():
    validate = fastjsonschema.compile(load_transaction_schema())
    assert validate(dict(VALID))["amount"] == D("1500.00")
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate({**VALID, "amount": True})


@pytest.mark.parametrize(
    "payload",
    [
        VALID,
        {**VALID, "amount": D("0.01")},
        {**VALID, "amount": D("1000000000")},
        {**VALID, "amount": D("1000000000.00")},
        {**VALID, "amount": 42},
        {**VALID, "amount": D("1.000")},  # value has 2 decimal places
        {**VALID, "transaction_id": "A" * 64},
        {**VALID, "transaction_id": "a-b_C-9"},
        {**VALID, "currency": "JPY"},
        {**VALID, "metadata": {}},
        {**VALID, "metadata": {f"k{i}": "v" * 256 for i in range(10)}},
        {**VALID, "metadata": {"order.ref": "A-1", "channel": "web"}},
    ],
)
def test_valid_payloads(payload):
    transaction = validate_transaction(dict(payload))
    assert isinstance(transaction.amount, Decimal)


@pytest.mark.parametrize(
    ("payload", "bad_fields"),
    [
        ({**VALID, "amount": D("0")}, {"amount"}),
        ({**VALID, "amount": D("-1")}, {"amount"}),
        ({**VALID, "amount": D("0.001")}, {"amount"}),
        ({**VALID, "amount": D("10.555")}, {"amount"}),
        ({**VALID, "amount": D("1000000000.01")}, {"amount"}),
        ({**VALID, "amount": D("1E+400")}, {"amount"}),
        ({**VALID, "amount": "10.00"}, {"amount"}),
        ({**VALID, "amount": True}, {"amount"}),
        ({**VALID, "amount": None}, {"amount"}),
        ({**VALID, "currency": "usd"}, {"currency"}),
        ({**VALID, "currency": "Usd"}, {"currency"}),
        ({**VALID, "currency": "US"}, {"currency"}),
        ({**VALID, "currency": "USDX"}, {"currency"}),
        ({**VALID, "currency": "USD\n"}, {"currency"}),
        ({**VALID, "transaction_id": ""}, {"transaction_id"}),
        ({**VALID, "transaction_id": "A" * 65}, {"transaction_id"}),
        ({**VALID, "transaction_id": "txn 1"}, {"transaction_id"}),
        ({**VALID, "transaction_id": "txn_1\n"}, {"transaction_id"}),
        ({**VALID, "merchant_id": "m/1"}, {"merchant_id"}),
        ({**VALID, "merchant_id": 7}, {"merchant_id"}),
        ({**VALID, "card_number": "4111111111111112"}, {"card_number"}),
        ({**VALID, "cvv": "123"}, {"cvv"}),
        ({**VALID, "metadata": {f"k{i}": "v" for i in range(11)}}, {"metadata"}),
        ({**VALID, "metadata": {"k": "v" * 257}}, {"metadata"}),
        ({**VALID, "metadata": {"k": 1}}, {"metadata"}),
        ({**VALID, "metadata": {"bad key": "v"}}, {"metadata"}),
        ({**VALID, "metadata": []}, {"metadata"}),
        (
            {"merchant_id": "m", "amount": "x", "currency": "usd", "extra": 1},
            {"transaction_id", "amount", "currency", "extra"},
        ),
        ({}, {"transaction_id", "merchant_id", "amount", "currency"}),
    ],
)
def test_invalid_payloads_name_each_bad_field(payload, bad_fields):
    with pytest.raises(ValidationFailed) as caught:
        validate_transaction(payload)
    assert fields_of(caught.value) == bad_fields


@pytest.mark.parametrize("payload", [[], "x", 1, None, [VALID]])
def test_non_object_bodies(payload):
    with pytest.raises(ValidationFailed) as caught:
        validate_transaction(payload)
    assert caught.value.details[0]["message"] == "body must be a JSON object"


def test_error_details_never_echo_values():
    with pytest.raises(ValidationFailed) as caught:
        validate_transaction(
            {**VALID, "metadata": {"note": 4111111111111112}, "amount": D("-4111111111111112")}
        )
    assert "4111" not in json.dumps(caught.value.details)


def test_payload_hash_is_canonical():
    base = validate_transaction(dict(VALID))
    assert validate_transaction({**VALID, "amount": D("1500")}).payload_hash() == base.payload_hash()
    assert validate_transaction({**VALID, "amount": 1500}).payload_hash() == base.payload_hash()
    assert validate_transaction({**VALID, "amount": D("1500.01")}).payload_hash() != base.payload_hash()
    a = validate_transaction({**VALID, "metadata": {"a": "1", "b": "2"}})
    b = validate_transaction({**VALID, "metadata": {"b": "2", "a": "1"}})
    assert a.payload_hash() == b.payload_hash() != base.payload_hash()


@pytest.mark.parametrize(
    ("body", "is_base64", "error"),
    [
        (None, False, InvalidJson),
        ("", False, InvalidJson),
        ("{", False, InvalidJson),
        ("not json", False, InvalidJson),
        ('{"amount": NaN}', False, InvalidJson),
        ('{"amount": Infinity}', False, InvalidJson),
        ('{"a": 1, "a": 2}', False, InvalidJson),
        ("[" * 5000 + "]" * 5000, False, PayloadTooLarge),
        ("[" * 4000 + "]" * 4000, False, InvalidJson),  # under the limit but too deep
        ("1" * 5000, False, InvalidJson),  # over the int digit limit of json.loads
        ("!!!notbase64", True, InvalidJson),
        (base64.b64encode(b"\xff\xfe").decode(), True, InvalidJson),
        ("x" * 8193, False, PayloadTooLarge),
        ("é" * 4097, False, PayloadTooLarge),  # 8194 bytes in UTF-8
        ("\ud800", False, InvalidJson),  # lone surrogate
    ],
)
def test_decode_body_errors(body, is_base64, error):
    with pytest.raises(error):
        decode_body(body, is_base64=is_base64, max_bytes=8192)


def test_decode_body_keeps_decimals_exact():
    assert decode_body('{"amount": 1500.10}', is_base64=False, max_bytes=8192) == {"amount": D("1500.10")}
    encoded = base64.b64encode(b'{"amount": 0.1}').decode()
    assert decode_body(encoded, is_base64=True, max_bytes=8192) == {"amount": D("0.1")}


@pytest.mark.parametrize("amount", ["0.01", "0.07", "19.99", "1000000000.00", "1000000000"])
def test_the_schemas_bounds_are_exact_for_decimal_amounts(amount):
    # the schema's minimum 0.01 is a float; the parsed amount a Decimal: the bounds must still hold exactly
    body = {"transaction_id": "t1", "merchant_id": "m1", "amount": Decimal(amount), "currency": "USD"}
    assert validate_transaction(body).amount == Decimal(amount)


@pytest.mark.parametrize("amount", ["0.009", "0", "1000000000.01", "0.001"])
def test_amounts_outside_the_bounds_or_cents_are_refused(amount):
    body = {"transaction_id": "t1", "merchant_id": "m1", "amount": Decimal(amount), "currency": "USD"}
    with pytest.raises(ValidationFailed):
        validate_transaction(body)


def test_multiple_of_a_cent_is_inexact_in_floating_point_validators_so_the_schema_leaves_it_out():
    # The 2-decimal rule cannot be stated exactly in JSON Schema for clients' validators: multipleOf 0.01
    # rejects representative valid amounts there. So the schema says it in words, the handler checks it.
    import jsonschema

    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "multipleOf": 0.01}
    rejected = [a for a in (0.07, 19.99, 1000000000.00) if not jsonschema.Draft4Validator(schema).is_valid(a)]
    assert rejected  # e.g. 0.07 / 0.01 == 7.000000000000001
    amount = load_transaction_schema()["properties"]["amount"]
    assert "multipleOf" not in amount and "at most 2 decimal places" in amount["description"]
    assert (amount["minimum"], amount["maximum"]) == (0.01, 1_000_000_000)
