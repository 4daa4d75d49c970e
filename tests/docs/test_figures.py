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

# page -> (phrase, reason): a figure inside one of these phrases is not a measurement.
ALLOWED: dict[str, tuple[tuple[str, str], ...]] = {}


def prose(text: str) -> str:
    """``text`` without what is not prose, and without links to the benchmark results (their text may quote)."""
    for pattern in (FENCE, GENERATED, COMMENT, CODE):
        text = pattern.sub(" ", text)

    def link(match: re.Match[str]) -> str:
        return " " if match.group(2).split("#")[0].endswith("bench/results.md") else match.group(1)

    return LINK.sub(link, text)


def unlinked_figures(path: Path) -> list[str]:
    text = " ".join(prose(path.read_text(encoding="utf-8")).split())
    allowed = [
        range(m.start(), m.end())
        for phrase, _ in ALLOWED.get(path.name if path.parent.name == "docs" else str(path.relative_to(ROOT)), ())
        for m in re.finditer(re.escape(phrase), text)
    ]
    return [
        f"{path.relative_to(ROOT)}: {text[max(m.start() - 50, 0) : m.end() + 10]!r}"
        for m in FIGURE.finditer(text)
        if not any(m.start() in span and m.end() - 1 in span for span in allowed)
    ]


def test_every_figure_of_the_readme_and_the_docs_is_generated_or_linked():
    assert [figure for page in PAGES for figure in unlinked_figures(page)] == []
