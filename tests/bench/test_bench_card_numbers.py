"""The card-number benchmark measures today's detector against the Luhn-only baseline on the same corpus."""

from __future__ import annotations

from bench import bench_card_numbers


def test_one_round_reports_recall_false_positives_and_cost():
    section = bench_card_numbers.run(repeats=1)
    measures = {row[0]: row for row in section.rows}
    assert measures["recall over card-number encodings"][2] == "100.000%"
    assert "detection us per request, ASCII" in measures
    assert "card numbers" in section.headlines
