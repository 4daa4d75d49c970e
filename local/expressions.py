"""Terraform expressions as cdktf writes them, and their resolution to local values.

Parses the interpolations of a synthesized ``cdk.tf.json`` (``${aws_sqs_queue.X.url}``,
``${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.Y.arn, ...})}``) and replaces the references
with the local runtime's values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# A reference inside an interpolation: resource type, logical id, attribute.
_REFERENCE = re.compile(r"(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)")


@dataclass(frozen=True)
class Ref:
    """``${kind.logical_id.attribute}``."""

    kind: str
    logical_id: str
    attribute: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.logical_id}.{self.attribute}"


# ---------------------------------------------------------------------------------------------------------
# Expressions: the small subset of Terraform's language cdktf emits in attribute values.
# ---------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<punct>[{}\[\](),=:])
      | (?P<name>[A-Za-z_][A-Za-z0-9_.-]*)
    )""",
    re.VERBOSE,
)


class _Parser:
    """Parses ``jsonencode({...})``, objects, lists, strings, numbers, booleans and references."""

    def __init__(self, text: str, lookup: Callable[[Ref], Any]) -> None:
        self._tokens = self._tokenize(text)
        self._pos = 0
        self._lookup = lookup
        self._text = text

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if not match:
                raise ValueError(f"unsupported Terraform expression near {text[pos : pos + 30]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def parse(self) -> Any:
        value = self._value()
        if self._pos != len(self._tokens):
            raise ValueError(f"unsupported Terraform expression {self._text!r}")
        return value

    def _peek(self) -> tuple[str, str]:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else ("end", "")

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token[0] == "end" or (expected is not None and token[1] != expected):
            raise ValueError(f"expected {expected or 'a value'} in Terraform expression {self._text!r}")
        self._pos += 1
        return token

    def _value(self) -> Any:
        kind, text = self._take()
        if kind in ("string", "number"):
            return json.loads(text)
        if kind == "punct" and text == "{":
            return self._object()
        if kind == "punct" and text == "[":
            return self._list()
        if kind == "name":
            if text in ("true", "false", "null"):
                return json.loads(text)
            if text == "jsonencode":
                self._take("(")
                inner = self._value()
                self._take(")")
                return json.dumps(inner, separators=(",", ":"))
            match = _REFERENCE.fullmatch(text)
            if match:
                return self._lookup(Ref(*match.groups()))
        raise ValueError(f"unsupported Terraform expression {self._text!r}")

    def _object(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self._peek()[1] != "}":
            kind, key = self._take()
            name = json.loads(key) if kind == "string" else key
            if self._peek()[1] not in ("=", ":"):
                raise ValueError(f"expected '=' in Terraform object {self._text!r}")
            self._take()
            result[name] = self._value()
            if self._peek()[1] == ",":
                self._take(",")
        self._take("}")
        return result

    def _list(self) -> list[Any]:
        items = []
        while self._peek()[1] != "]":
            items.append(self._value())
            if self._peek()[1] == ",":
                self._take(",")
        self._take("]")
        return items


def interpolations(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, expression)`` of every ``${...}`` in ``text``; braces inside are balanced, strings
    inside are skipped."""
    found = []
    pos = text.find("${")
    while pos != -1:
        depth, index, in_string = 0, pos + 1, False
        while index < len(text):
            char = text[index]
            if in_string:
                if char == "\\":
                    index += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        if depth != 0:
            raise ValueError(f"unbalanced interpolation in {text!r}")
        found.append((pos, index + 1, text[pos + 2 : index]))
        pos = text.find("${", index + 1)
    return found


def references(value: Any) -> set[Ref]:
    """Every reference used anywhere inside ``value`` (strings, lists, dicts)."""
    found: set[Ref] = set()
    if isinstance(value, str):
        for _, _, expression in interpolations(value):
            found.update(Ref(*m) for m in _REFERENCE.findall(expression))
    elif isinstance(value, Mapping):
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= references(item)
    return found


def as_ref(value: Any) -> Ref | None:
    """The reference when ``value`` is exactly ``${kind.id.attribute}``, else None."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{" + _REFERENCE.pattern + r"\}", value)
        if match:
            return Ref(*match.groups())
    return None


class Resolver:
    """Replaces Terraform interpolations with local values: ``values[Ref] -> value``."""

    def __init__(self, values: Mapping[Ref, Any]) -> None:
        self._values = dict(values)

    def add(self, ref: Ref, value: Any) -> None:
        self._values[ref] = value

    def lookup(self, ref: Ref) -> Any:
        if ref not in self._values:
            raise ValueError(f"the local runtime has no value for ${{{ref}}}")
        return self._values[ref]

    def resolve(self, value: Any) -> Any:
        """Resolve ``value``: a whole-string interpolation yields the value itself, embedded ones are
        substituted as text; dicts and lists are resolved item by item."""
        if isinstance(value, Mapping):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.resolve(v) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        parts = interpolations(value)
        if len(parts) == 1 and parts[0][0] == 0 and parts[0][1] == len(value):
            return _Parser(parts[0][2], self.lookup).parse()
        text, last = [], 0
        for start, end, expression in parts:
            text += [value[last:start], str(_Parser(expression, self.lookup).parse())]
            last = end
        return "".join([*text, value[last:]])
