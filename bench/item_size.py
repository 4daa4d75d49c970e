"""DynamoDB item and index-entry sizes, and the write units they cost, by the documented rules.

Sizes (developer guide, "Item sizes and formats"): an attribute is its name's UTF-8 length plus its
value's size; a string its UTF-8 length, a number about one byte per two significant digits plus one,
a boolean or null one byte, a list or map 3 bytes plus its elements plus one byte each (plus the keys of
a map). Storage adds 100 bytes per item; an index entry is its keys, the table's key and the projected
attributes, plus 100 bytes. A write costs one unit per started KB of the larger of the item's old and new
size, in the table and in each index whose entry it writes or deletes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

KB = 1024
OVERHEAD = 100


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    raise ValueError(f"unsupported attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]], names: Iterable[str] | None = None) -> int:
    """The size of ``item`` (only the attributes ``names``, when given)."""
    wanted = set(item) if names is None else set(names) & set(item)
    return sum(len(name.encode()) + value_size(item[name]) for name in wanted)


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def index_entry(item: Mapping[str, Mapping[str, Any]], attributes: Iterable[str]) -> int | None:
    """The size of ``item``'s entry in an index of ``attributes`` (keys, table key, projection), or None
    when the item lacks the index's keys (a sparse index)."""
    names = list(attributes)
    return item_size(item, names) + OVERHEAD if all(n in item for n in names[:2]) else None
