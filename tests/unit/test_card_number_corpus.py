"""The card-number corpus: recall over every writing of every network's PANs, false positives over
realistic merchant values (bench/card_corpus.py). Both numbers are printed in the run's summary."""

from __future__ import annotations

from collections import Counter

from bench.card_corpus import card_number_encodings, merchant_values
from card_transactions.handlers.domain.card_numbers import (
    NETWORKS,
    contains_card_number,
    fields_with_card_numbers,
)

MIN_MERCHANT_VALUES = 10_000
MAX_FALSE_POSITIVE_RATE = 0.001


def test_every_writing_of_every_card_number_is_refused(record_property):
    encodings = card_number_encodings()
    missed = [e for e in encodings if not fields_with_card_numbers(e.payload)]
    recall = 1 - len(missed) / len(encodings)
    record_property("card-number recall", f"{recall:.3%} of {len(encodings)} encodings")
    assert {e.network for e in encodings} == {n.name for n in NETWORKS}
    assert {e.place for e in encodings} >= {"metadata value", "metadata key", "transaction_id"}
    assert not missed, Counter((e.network, e.writing, e.place) for e in missed).most_common(10)


def test_realistic_merchant_values_are_rarely_refused(record_property):
    values = list(merchant_values())
    refused = [(kind, value) for kind, value in values if contains_card_number(value)]
    rate = len(refused) / len(values)
    record_property("card-number false positives", f"{rate:.3%} of {len(values)} merchant values")
    assert len(values) >= MIN_MERCHANT_VALUES
    assert rate <= MAX_FALSE_POSITIVE_RATE, Counter(kind for kind, _ in refused)


def test_the_corpus_is_deterministic():
    assert list(merchant_values(per_class=20)) == list(merchant_values(per_class=20))
    assert card_number_encodings()[:50] == card_number_encodings()[:50]
