"""What EventBridge does to one event: a pipe's filters and input template, a rule's event pattern and
its target's input transformer.

All come from the synthesized stack (``aws_pipes_pipe``, ``aws_cloudwatch_event_rule``,
``aws_cloudwatch_event_target``), never from a copy: filters and patterns are EventBridge event patterns,
evaluated by moto's implementation of them; templates are rendered here with the rules the Pipes and
EventBridge documentation give: a pipe's template names ``<$.json.path>`` placeholders, an input
transformer names variables (``<name>``) whose paths its ``input_paths`` give (dot notation, array
indices, ``[*]``). A placeholder inside quotes takes the value's text (JSON-escaped), one outside quotes
takes the value as JSON (a number's text as it is, an object or array as JSON). A path the event does not
have is an error: the message cannot be built, so it is not delivered (it goes to the DLQ).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from moto.events.models import EventPattern

_PLACEHOLDER = re.compile(r'("?)<(\$[^>]*)>("?)')
_VARIABLE = re.compile(r'("?)<([A-Za-z0-9_.-]+)>("?)')
_STEP = re.compile(r"\.([A-Za-z0-9_/-]+)|\[(\*|\d+)\]")


class TemplateError(ValueError):
    """The template names a path the record does not have, or does not render to JSON."""


def matches(patterns: Sequence[str], record: Mapping[str, Any]) -> bool:
    """Pipes pass a record that matches any of the filters (all of them when there are none)."""
    event: Any = dict(record)
    return not patterns or any(EventPattern.load(p).matches_event(event) for p in patterns)


def select(record: Any, path: str) -> Any:
    """The value at ``path`` (``$.a.b[0].c``, ``[*]`` maps over a list and always yields a list)."""
    if not path.startswith("$"):
        raise TemplateError(f"a path starts with $, got {path!r}")
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(path, 1)]
    if "".join(f".{k}" if k else f"[{i}]" for k, i in steps) != path[1:]:
        raise TemplateError(f"unsupported path {path!r}")
    return _walk(record, steps, path)


def _walk(value: Any, steps: Sequence[tuple[str | None, str | None]], path: str) -> Any:
    for position, (key, index) in enumerate(steps):
        if key is not None:
            if not isinstance(value, Mapping) or key not in value:
                raise TemplateError(f"the record has no {path}")
            value = value[key]
        elif index == "*":
            if not isinstance(value, list):
                raise TemplateError(f"{path}: [*] needs a list")
            return [_walk(item, steps[position + 1 :], path) for item in value]
        else:
            if not isinstance(value, list) or int(index or 0) >= len(value):
                raise TemplateError(f"the record has no {path}")
            value = value[int(index or 0)]
    return value


def _inline(value: Any, quoted: bool) -> str:
    if quoted:
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)
    return value if isinstance(value, str) else json.dumps(value)


def render(template: str, record: Mapping[str, Any]) -> str:
    """The message the pipe sends for ``record``: a JSON template must render to JSON."""
    return _fill(template, _PLACEHOLDER, lambda path: select(record, path))


def transform(input_paths: Mapping[str, str], template: str, event: Mapping[str, Any]) -> str:
    """The message a rule's target sends for ``event``: ``<name>`` is the value at ``input_paths[name]``."""
    values = {name: select(event, path) for name, path in input_paths.items()}

    def value(name: str) -> Any:
        if name not in values:
            raise TemplateError(f"the template names <{name}>, which input_paths does not define")
        return values[name]

    return _fill(template, _VARIABLE, value)


def _fill(template: str, placeholder: re.Pattern[str], value: Callable[[str], Any]) -> str:
    def substitute(match: re.Match[str]) -> str:
        opening, key, closing = match.groups()
        quoted = bool(opening and closing)
        text = _inline(value(key), quoted)
        return text if quoted else f"{opening}{text}{closing}"

    rendered = placeholder.sub(substitute, template)
    if template.lstrip().startswith(("{", "[")):
        try:
            json.loads(rendered)
        except ValueError as exc:
            raise TemplateError(f"the template did not render to JSON: {exc}") from None
    return rendered
