"""Pure pieces around the services: TTL cache, merchant items, message format, dead-letter description."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest

from card_transactions.handlers.domain.cache import TTLCache
from card_transactions.handlers.domain.errors import (
    AmountExceedsMerchantLimit,
    InvalidMessage,
    MerchantInactive,
)
from card_transactions.handlers.domain.failure import DeadLetter, describe
from card_transactions.handlers.domain.fraud import FraudStatus
from card_transactions.handlers.domain.merchant import Merchant
from card_transactions.handlers.domain.records import TransactionMessage, TransactionRecord, public_view
from tests.events import queue_message, stream_body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_expires_and_is_bounded():
    clock, loads = Clock(), []
    cache: TTLCache[str] = TTLCache(60, max_entries=2, clock=clock)

    def loader(key: str) -> Callable[[], str]:
        def load() -> str:
            loads.append(key)
            return key.upper()

        return load

    assert cache.get_or_load("a", loader("a")) == "A"
    clock.now += 59.9
    assert cache.get_or_load("a", loader("a")) == "A"
    clock.now += 0.2
    assert cache.get_or_load("a", loader("a")) == "A"
    assert loads == ["a", "a"]
    cache.get_or_load("b", loader("b"))
    cache.get_or_load("c", loader("c"))  # evicts "a"
    cache.get_or_load("a", loader("a"))
    assert loads == ["a", "a", "b", "c", "a"]


def test_ttl_zero_disables_cache():
    loads: list[int] = []
    cache: TTLCache[None] = TTLCache(0)
    cache.get_or_load("a", lambda: loads.append(1))
    cache.get_or_load("a", lambda: loads.append(1))
    assert len(loads) == 2


def test_merchant_item_rules():
    merchant = Merchant.from_item(
        {"merchant_id": "m", "name": "Acme", "active": True, "max_transaction_amount": Decimal("100")}
    )
    merchant.authorise(Decimal("100"))
    with pytest.raises(AmountExceedsMerchantLimit):
        merchant.authorise(Decimal("100.01"))
    inactive = Merchant.from_item(
        {"merchant_id": "m", "name": "x", "active": False, "max_transaction_amount": 5}
    )
    with pytest.raises(MerchantInactive):
        inactive.authorise(Decimal("1"))
    # "active" must be a real boolean true
    assert not Merchant.from_item({"name": "x", "active": "true", "max_transaction_amount": 5}).active


@pytest.mark.parametrize(
    "item",
    [
        {"name": "x", "active": True},
        {"name": "x", "active": True, "max_transaction_amount": "lots"},
        {"active": True, "max_transaction_amount": 5},
        {"name": "x", "active": True, "max_transaction_amount": 5, "fraud_review_threshold": "abc"},
    ],
)
def test_malformed_merchant_items(item):
    with pytest.raises(ValueError):
        Merchant.from_item(item)


def test_message_round_trip_and_tamper_detection():
    body = queue_message(amount=Decimal("12.5"))
    message = TransactionMessage.from_json(body)
    assert message.transaction.amount == Decimal("12.5")
    assert json.loads(body)["transaction"]["amount"] == "12.50"
    tampered = json.loads(body)
    tampered["transaction"]["amount"] = "99.00"
    with pytest.raises(InvalidMessage):
        TransactionMessage.from_json(json.dumps(tampered))


def test_a_message_reads_the_same_in_the_stream_s_wrapper_and_bare():
    bare = queue_message(transaction_id="txn_w", merchant_id="merchant_042")
    wrapped = stream_body(bare)
    assert json.loads(wrapped) == {"S": bare}
    assert TransactionMessage.from_json(wrapped) == TransactionMessage.from_json(bare)
    assert TransactionMessage.merchant_id_of(wrapped) == "merchant_042"
    assert TransactionMessage.merchant_id_of(bare) == "merchant_042"


MALFORMED_WRAPPERS = [
    '{"S": 5}',
    '{"S": null}',
    '{"S": {"version": 1}}',
    '{"S": "not json"}',
    '{"S": ""}',
    '{"S": "[]"}',
    stream_body(stream_body(queue_message())),  # wrapped twice
    json.dumps({"S": queue_message(), "N": "1"}),  # more than the string member
    json.dumps({**json.loads(queue_message()), "S": "x"}),  # a message with an S member
]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        '{"version": 2}',
        '{"version": 1, "transaction": {"amount": 5}}',
        "{" * 10000,
        *MALFORMED_WRAPPERS,
    ],
)
def test_poison_messages(body):
    with pytest.raises(InvalidMessage):
        TransactionMessage.from_json(body)


@pytest.mark.parametrize("body", ["not json", '{"transaction": 5}', *MALFORMED_WRAPPERS])
def test_a_body_naming_no_merchant_has_none(body):
    assert TransactionMessage.merchant_id_of(body) is None


@pytest.mark.parametrize(
    ("body", "expected_id", "reason"),
    [
        (queue_message(transaction_id="txn_9"), "txn_9", "PROCESSING_RETRIES_EXHAUSTED"),
        (stream_body(queue_message(transaction_id="txn_7")), "txn_7", "PROCESSING_RETRIES_EXHAUSTED"),
        ('{"transaction": {"transaction_id": "txn_8"}}', "txn_8", "INVALID_MESSAGE"),
        (stream_body('{"transaction": {"transaction_id": "txn_6"}}'), "txn_6", "INVALID_MESSAGE"),
        ('{"S": 5}', "dlq-m1", "INVALID_MESSAGE"),
        (json.dumps({"S": queue_message(), "N": "1"}), "dlq-m1", "INVALID_MESSAGE"),
        ('{"S": "not json"}', "dlq-m1", "UNPARSEABLE_BODY"),
        ('{"transaction": {"transaction_id": "bad id"}}', "dlq-m1", "INVALID_MESSAGE"),
        ("[1, 2]", "dlq-m1", "INVALID_MESSAGE"),
        ("<xml/>", "dlq-m1", "UNPARSEABLE_BODY"),
        (None, "dlq-m1", "UNPARSEABLE_BODY"),
    ],
)
def test_describe_dead_letters(body, expected_id, reason):
    transaction_id, got_reason, _ = describe(DeadLetter("m1", body, 4))
    assert (transaction_id, got_reason) == (expected_id, reason)


def test_public_view_formats_amount_and_hides_internals():
    record = TransactionRecord.from_attributes(
        {
            "transaction_id": "t",
            "amount": Decimal("1500"),
            "fraud_score": Decimal("40"),
            "reasons": ["X"],
            "status": "REVIEW_REQUIRED",
            "payload_hash": "h",
            "message": "{}",
        }
    )
    assert record.status is FraudStatus.REVIEW_REQUIRED
    view = public_view(record)
    assert view["amount"] == "1500.00"
    assert view["fraud_score"] == 40
    assert "payload_hash" not in view
    assert "message" not in view
    assert (view["processed_at"], "merchant_id" in view) == (None, False)  # null until known, absent if never


@pytest.mark.parametrize(
    "item",
    [{"status": "APPROVED"}, {"transaction_id": "t", "status": "LOST"}, {"transaction_id": "t"}],
)
def test_a_malformed_record_is_refused(item):
    with pytest.raises(ValueError, match="transaction"):
        TransactionRecord.from_attributes(item)


def test_pending_record_carries_its_sparse_index_entry_and_message():
    from card_transactions.handlers.domain.records import PENDING_SHARDS, pending_shard

    message = TransactionMessage.from_json(queue_message(transaction_id="abc"))
    record = message.pending_record()
    assert record["pending_shard"] == pending_shard("abc") < PENDING_SHARDS
    assert record["pending_since_ms"] == message.received_epoch_ms
    assert TransactionMessage.from_json(record["message"]) == message
