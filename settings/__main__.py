"""``python -m settings``: write the README's configuration tables from the catalog, and its table of
API Gateway's own errors from ``handlers.gateway_responses`` (``--check`` fails, without writing, when
the README is out of date)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from card_transactions.handlers.gateway_responses import GATEWAY_RESPONSES
from card_transactions.settings.catalog import LocalSettings, Settings
from card_transactions.settings.model import Setting, SettingsGroup, settings_of

README = Path(__file__).resolve().parent.parent / "README.md"
TABLES: dict[str, type[SettingsGroup]] = {"synth": Settings, "local": LocalSettings}


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


def with_tables(text: str) -> str:
    """``text`` with the table between ``<!-- NAME -->`` and ``<!-- /NAME -->`` replaced by the generated
    one, for each block NAME (``settings:synth``, ``settings:local``, ``errors:gateway``)."""
    for name, generated in _blocks().items():
        start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
        if start not in text or end not in text:
            raise ValueError(f"README.md has no {start.strip()} ... {end} block")
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = f"{head}{start}{generated}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when README.md is out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = with_tables(current)
    if args.check:
        if current != wanted:
            print("README.md tables are out of date: run `python -m settings`", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
