"""Every figure the README and the docs quote about something measured (a duration, a ratio, an amount of
money, a percentage) is generated from the code, links to ``bench/results.md``, or is allowed below with
its reason. A measurement copied into prose goes stale the next time ``make bench`` runs.

A figure is a number next to a unit: ``$41``, ``0.067%``, ``0.22x``, ``4.4 s``, ``30 us``, ``2.7 minutes``.
Code blocks, inline code and generated blocks (``<!-- name -->`` ... ``<!-- /name -->``) are not prose; a
link whose target is ``bench/results.md`` may carry a figure as its text."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", ROOT / "releases" / "README.md", *sorted((ROOT / "docs").glob("*.md")))

NUMBER = r"\d[\d,]*(?:\.\d+)?"
FIGURE = re.compile(
    rf"\$\s?{NUMBER}"  # money
    rf"|{NUMBER}\s?%"  # a share
    rf"|\b{NUMBER}x\b"  # a ratio
    rf"|\b{NUMBER}\s?(?:ms|us|µs|seconds?|min|minutes?)\b|\b{NUMBER}\ss\b"  # a duration ("422s" is a plural)
)
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2\s*$", re.MULTILINE | re.DOTALL)
GENERATED = re.compile(r"<!-- ([a-z:-]+) -->.*?<!-- /\1 -->", re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
CODE = re.compile(r"(`+).+?\1", re.DOTALL)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")

# page -> (phrase, reason): a figure inside one of these phrases is not a measurement. Each phrase must
# still be on its page (test below), so an entry cannot outlive its text.
SETTING_DEFAULT = "a setting's default (settings/catalog.py), not a measurement"
ALARM = "an alarm's threshold and period (stacks/constructs/monitoring.py), not a measurement"
VISIBILITY = "the queue's visibility timeout (stacks): 6 x the fraud function's 30 s timeout"
RETRY_SPAN = "MAX_RECEIVE_COUNT's default x the visibility timeout: arithmetic"
ALLOWED: dict[str, tuple[tuple[str, str], ...]] = {
    "card-numbers.md": (
        ("gave 0.39% false positives on the corpus below instead of 0.21%", "a one-off design comparison"),
        ("**Recall 100%**", "asserted by tests/unit/test_card_number_corpus.py: every encoding is refused"),
        ("**False positives at most 0.1%**", "the bound tests/unit/test_card_number_corpus.py asserts"),
    ),
    "clients.md": (("(60 s, its merchant cache)", SETTING_DEFAULT),),
    "compliance.md": (("its 60 s cache", SETTING_DEFAULT),),
    "differences.md": (
        ("one per visibility timeout (3 minutes", VISIBILITY),
        ("about 72 minutes", RETRY_SPAN),
    ),
    "handlers.md": (
        ("not in its cache (60 s)", SETTING_DEFAULT),
        (
            "visibility timeout ends (180 s, 6 x the function's 30 s timeout)",
            "the queue's visibility timeout (stacks): 6 x the function's timeout (settings/system.py)",
        ),
        (
            "one visibility timeout apart: about 72 minutes",
            "MAX_RECEIVE_COUNT's default x the visibility timeout",
        ),
        ("every waiting message is retried within 180 s", "the queue's visibility timeout (stacks)"),
        ("come back every 180 s (the DLQ's visibility timeout", "the DLQ's visibility timeout (stacks)"),
        ("(default 60 s;", "tools/replay.py's default threshold"),
    ),
    "local.md": (
        ("from 30 s to 90 s after ready", "an example of the LOCAL_OUTAGE syntax"),
        ("through a 60 s DynamoDB outage", "the outage the end-to-end test scripts"),
    ),
    "quotas.md": (
        ("(10,000 / 86,400 s)", "the default daily quota over a day's seconds: arithmetic"),
        ("(500 + 1000) x 100 ms = 150", "the derived reserved concurrency on the defaults"),
    ),
    "runbooks.md": (
        ("(15 minutes)", SETTING_DEFAULT),
        ("the queue's visibility timeout (3 minutes)", VISIBILITY),
        ("the queue's visibility timeout, 3 minutes", VISIBILITY),
        ("(at most 3 minutes)", VISIBILITY),
        ("(about 72 minutes", RETRY_SPAN),
        ("failed more than 1% of its invocations over 10 minutes", ALARM),
        ("returns to OK within 10 minutes", ALARM),
        ("retries every 3 minutes", "the DLQ's visibility timeout (stacks)"),
        ("waited more than 5 minutes for 5 minutes", ALARM),
        ("falls under 300 s", ALARM),
        ("More than 1% of API requests failed with 5xx for 10 minutes", ALARM),
    ),
    "waf.md": (
        ("plus 25% headroom", "the derived per-key limit's rule (stacks/constructs/waf.py)"),
        (
            "(500 x 300 + 1000) x 1.25 = 188,750 requests per 5 minutes",
            "the derived per-key limit on the defaults",
        ),
    ),
}


def prose(text: str) -> str:
    """``text`` without what is not prose, nor links to the benchmark results (their text may quote)."""
    for pattern in (FENCE, GENERATED, COMMENT, CODE):
        text = pattern.sub(" CODE ", text)

    def link(match: re.Match[str]) -> str:
        return " " if match.group(2).split("#")[0].endswith("bench/results.md") else match.group(1)

    return LINK.sub(link, text)


def _key(path: Path) -> str:
    return path.name if path.parent.name == "docs" else str(path.relative_to(ROOT))


def _text(path: Path) -> str:
    return " ".join(prose(path.read_text(encoding="utf-8")).split())


def unlinked_figures(path: Path) -> list[str]:
    text = _text(path)
    allowed = [
        range(m.start(), m.end())
        for phrase, _ in ALLOWED.get(_key(path), ())
        for m in re.finditer(re.escape(phrase), text)
    ]
    return [
        f"{path.relative_to(ROOT)}: {text[max(m.start() - 50, 0) : m.end() + 10]!r}"
        for m in FIGURE.finditer(text)
        if not any(m.start() in span and m.end() - 1 in span for span in allowed)
    ]


def test_every_figure_of_the_readme_and_the_docs_is_generated_or_linked():
    assert [figure for page in PAGES for figure in unlinked_figures(page)] == []


def test_every_allowed_phrase_is_still_on_its_page():
    texts = {_key(page): _text(page) for page in PAGES}
    stale = [
        (page, phrase)
        for page, entries in ALLOWED.items()
        for phrase, _ in entries
        if phrase not in texts[page]
    ]
    assert stale == []


def test_a_copied_measurement_is_found_and_a_linked_or_coded_one_is_not(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Synth takes 4.4 s, 0.28x the import; it costs $52 a month; 0.067% false positives; p50 26 ms.\n"
        "[4.4 s](../bench/results.md#synth) in `0.5 s` code, 422s are plurals, 2 cores, TLS 1.2.\n"
        "```\nmake bench  # about 6 minutes\n```\n<!-- x:y -->\n| 30 s |\n<!-- /x:y -->\n",
        encoding="utf-8",
    )
    found = [m.group(0) for m in FIGURE.finditer(_text(page))]
    assert found == ["4.4 s", "0.28x", "$52", "0.067%", "26 ms"]
