"""``python -m settings``: write the documentation's configuration tables from the catalog
(``docs/configuration.md``, ``docs/local.md``), and its table of API Gateway's own errors from
``handlers.gateway_responses`` (``docs/api.md``); ``--check`` fails, without writing, when a page is out
of date."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSES
from card_transactions.settings.catalog import Settings
from card_transactions.settings.model import Setting, SettingsGroup, settings_of
from local.config import LocalSettings

DOCS = Path(__file__).resolve().parent.parent / "docs"
TABLES: dict[str, type[SettingsGroup]] = {"synth": Settings, "local": LocalSettings}
# generated block -> the page that holds it
PAGES: dict[str, Path] = {
    "settings:synth": DOCS / "configuration.md",
    "settings:local": DOCS / "local.md",
    "errors:gateway": DOCS / "api.md",
}


def _meaning(spec: Setting) -> str:
    passed = ", ".join(f.entry_point.replace("_", "-") for f in spec.functions)
    return spec.doc + (f" (read by the {passed} function)" if passed else "")


def table(group: type[SettingsGroup]) -> str:
    rows = ["| variable | default | allowed | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{s.env}` | {s.documented_default} | {s.allowed} | {_meaning(s)} |" for s in settings_of(group)
    ]
    return "\n".join(rows)


def gateway_errors_table() -> str:
    rows = ["| status | code | when | API Gateway response type |", "|---|---|---|---|"]
    rows += [
        f"| {int(r.status) if r.status else 'its own'} | `{r.code}` | {r.description} | `{r.response_type}` |"
        for r in GATEWAY_RESPONSES
    ]
    return "\n".join(rows)


def _blocks() -> dict[str, str]:
    """Marker -> generated table."""
    blocks = {f"settings:{name}": table(group) for name, group in TABLES.items()}
    return {**blocks, "errors:gateway": gateway_errors_table()}


def with_blocks(text: str, names: Iterable[str]) -> str:
    """``text`` with the table between ``<!-- NAME -->`` and ``<!-- /NAME -->`` replaced by the generated
    one, for each block NAME given (``settings:synth``, ``settings:local``, ``errors:gateway``)."""
    blocks = _blocks()
    for name in names:
        start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
        if start not in text or end not in text:
            raise ValueError(f"no {start.strip()} ... {end} block")
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = f"{head}{start}{blocks[name]}\n{end}{tail}"
    return text


def pages() -> dict[Path, list[str]]:
    """Each page holding generated blocks -> the names of its blocks."""
    by_page: dict[Path, list[str]] = {}
    for name, page in PAGES.items():
        by_page.setdefault(page, []).append(name)
    return by_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when a page is out of date")
    args = parser.parse_args(argv)
    stale = []
    for page, names in pages().items():
        current = page.read_text(encoding="utf-8")
        try:
            wanted = with_blocks(current, names)
        except ValueError as error:
            raise SystemExit(f"{page.name}: {error}") from None
        if current == wanted:
            continue
        stale.append(page.name)
        if not args.check:
            page.write_text(wanted, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}: run `python -m settings`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
