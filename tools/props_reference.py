"""``python -m tools.props_reference``: write docs/props.md, the reference of ``TransactionProcessingProps``,
from the props' types, defaults and docstrings (``stacks/props.py``). A test fails when the file is stale."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import sys
import typing
from pathlib import Path
from typing import Any

from card_transactions.stacks import bindings

bindings.activate()  # an entry point: pinned Node and the fast provider import for the props' imports

from card_transactions.stacks import props as props_module  # noqa: E402
from card_transactions.stacks.props import TransactionProcessingProps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "props.md"
HEADER = (
    "# `TransactionProcessingProps` reference\n\n"
    "Generated from `stacks/props.py` by `python -m tools.props_reference`; a test fails when it is stale.\n"
    "Every default is the original system's. A part with a create field and an `existing_*` field takes\n"
    "one of them; both is a `ValueError` naming the two.\n"
)


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (a string expression right after it)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


MODULE_PREFIXES = (
    "typing.",
    "card_transactions.stacks.config.",
    "card_transactions.stacks.props.",
    "card_transactions.stacks.constructs.waf.",
    "decimal.",
)


def type_name(kind: Any) -> str:
    text = kind.__name__ if isinstance(kind, type) else str(kind)
    for prefix in MODULE_PREFIXES:
        text = text.replace(prefix, "")
    return text


def cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")


def default_text(item: dataclasses.Field[Any]) -> str:
    if item.default is not dataclasses.MISSING:
        value = item.default
    elif item.default_factory is not dataclasses.MISSING:
        value = item.default_factory()
        if dataclasses.is_dataclass(value):
            return f"`{type(value).__name__}()`"
    else:
        return "required"
    text = repr(value)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"


def dataclass_section(cls: type, level: str) -> list[str]:
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    lines = [f"{level} `{cls.__name__}`", "", " ".join((cls.__doc__ or "").split()), ""]
    lines += ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for item in dataclasses.fields(cls):
        description = docs.get(item.name, "")
        lines.append(
            f"| `{item.name}` | `{cell(type_name(hints[item.name]))}` | {cell(default_text(item))} "
            f"| {cell(description)} |"
        )
    return [*lines, ""]


def nested(cls: type) -> list[type]:
    """The props dataclasses ``cls`` refers to, in field order, each once."""
    found: list[type] = []
    for kind in typing.get_type_hints(cls).values():
        for arg in (kind, *typing.get_args(kind)):
            if dataclasses.is_dataclass(arg) and arg.__module__ == props_module.__name__ and arg not in found:
                found.append(arg)  # type: ignore[arg-type]
    return found


def render() -> str:
    lines = [HEADER]
    lines += dataclass_section(TransactionProcessingProps, "##")
    seen: list[type] = []
    for group in nested(TransactionProcessingProps):
        for cls in (group, *nested(group)):
            if cls not in seen:
                seen.append(cls)
                lines += dataclass_section(cls, "##" if cls is group else "###")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    REFERENCE.write_text(render())
    print(f"wrote {REFERENCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
