"""How a setting is declared, read, checked, passed on to functions and documented.

The declarations live in ``settings.catalog`` (and the local runtime's in ``local.config``). A setting is
an annotated attribute of a ``SettingsGroup`` subclass, declared with ``setting()``: its environment
variable, default, checks, documentation and the Lambda functions whose environment carries it. The
annotation is its type.
Every reader (synth, a function at run time, the local runtime) goes through ``Setting.read`` and
``Setting.validate``, so one setting has one set of bounds and one spelling of its values, and every
error names the variable and the bad value.

Reading rules, the same everywhere: surrounding blanks are ignored; an unset or empty variable keeps the
default (or fails, for a setting without one); booleans are ``true/false``, ``1/0`` or ``yes/no`` in any
case; integers are plain decimal digits.

Groups and views are frozen records with one generic constructor (``Record``), not dataclasses: the
functions import the catalog on every cold start, and generating a dataclass's methods for every group
costs more than the rest of the catalog.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import FrozenInstanceError
from decimal import Decimal, InvalidOperation
from types import NoneType, UnionType
from typing import Any, ClassVar, Self, dataclass_transform

TRUE = ("true", "1", "yes")
FALSE = ("false", "0", "no")
_INTEGER = re.compile(r"[+-]?[0-9]+")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a setting that must be set (a function's table name, say)."""


class Function:
    """A Lambda function of the system."""

    __slots__ = ("entry_point", "service", "timeout_seconds")

    def __init__(self, entry_point: str, *, service: str, timeout_seconds: int) -> None:
        self.entry_point = entry_point  # handlers/<entry_point>.py
        self.service = service  # its name in logs, metrics and traces (POWERTOOLS_SERVICE_NAME)
        self.timeout_seconds = timeout_seconds

    @property
    def handler(self) -> str:
        return f"card_transactions.handlers.{self.entry_point}.handler"

    def __repr__(self) -> str:
        return f"Function({self.entry_point!r})"


class Check:
    """A bound on a setting's value: ``holds(value)``, described as ``requirement`` in errors and docs."""

    __slots__ = ("holds", "requirement")

    def __init__(self, requirement: str, holds: Callable[[Any], bool]) -> None:
        self.requirement = requirement
        self.holds = holds


def between(low: float, high: float) -> Check:
    return Check(f"between {low} and {high}", lambda v: low <= v <= high)


def at_least(low: float) -> Check:
    return Check(f">= {low}", lambda v: v >= low)


def positive() -> Check:
    return Check("> 0", lambda v: v > 0)


def one_of(*choices: object) -> Check:
    text = ", ".join(str(c) for c in choices)
    return Check(f"one of {text}", lambda v: all(item in choices for item in _items(v)))


def matches(pattern: str, requirement: str) -> Check:
    """``pattern`` must match the whole value, or every item of a list setting."""
    return Check(requirement, lambda v: all(re.fullmatch(pattern, item) for item in _items(v)))


def min_length(length: int) -> Check:
    return Check(f"at least {length} characters", lambda v: len(v) >= length)


def _items(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, tuple) else (value,)


class Setting:
    """One declared setting. ``setting()`` makes it; its group names it and gives it its type."""

    __slots__ = (
        "checks",
        "default",
        "doc",
        "empty_allowed",
        "env",
        "functions",
        "kind",
        "name",
        "normalize",
        "secret",
        "shown_default",
    )

    def __init__(
        self,
        env: str,
        default: Any,
        checks: tuple[Check, ...],
        *,
        doc: str,
        functions: tuple[Function, ...],
        empty_allowed: bool,
        secret: bool,
        normalize: Callable[[str], str] | None,
        shown_default: str | None,
    ) -> None:
        self.env = env
        self.default = default
        self.checks = checks
        self.doc = doc
        self.functions = functions
        self.empty_allowed = empty_allowed  # the empty string is a valid value (it means "derive it")
        self.secret = secret  # errors show the length, never the value
        self.normalize = normalize  # applied to the raw text first (e.g. str.upper)
        self.shown_default = shown_default  # the default as the docs describe it
        self.name = ""  # set by the group
        self.kind: Any = None  # the annotation, set by the group

    # --- reading ------------------------------------------------------------------------------------

    def read(self, environ: Mapping[str, str]) -> Any:
        """The value ``environ`` gives this setting (parsed and checked), or its default."""
        raw = environ.get(self.env)
        text = (raw or "").strip()
        if not text:
            if self.default is REQUIRED:
                raise ValueError(f"{self.env} must be set, got {raw!r}")
            return self.default
        value = self.parse(text)
        self.validate(value, shown=text)
        return value

    def parse(self, text: str, named: str | None = None) -> Any:
        """``text`` as a value of the setting's type; errors name ``named`` (default: the variable)."""
        if self.normalize is not None:
            text = self.normalize(text)
        try:
            return _parse(self.kind, text)
        except (ValueError, InvalidOperation):
            who = named or self.env
            raise ValueError(f"{who} must be {_phrase(self.kind)}, got {self._shown(text)}") from None

    def validate(self, value: Any, shown: str | None = None, named: str | None = None) -> None:
        """Raise ValueError naming the variable (or ``named``) and the value (``shown``: as it was
        written) when ``value`` breaks a check."""
        who = named or self.env
        if value is None or (value == "" and self.empty_allowed):
            return
        if self.default is REQUIRED and value == "":
            raise ValueError(f"{who} must be set, got {value!r}")
        for check in self.checks:
            if not check.holds(value):
                written = self._shown(value if shown is None else shown)
                raise ValueError(f"{who} must be {check.requirement}, got {written}")

    def _shown(self, value: Any) -> str:
        text = value if isinstance(value, str) else self.render(value)
        return f"a value of {len(text)} characters" if self.secret else repr(text)

    # --- writing ------------------------------------------------------------------------------------

    def render(self, value: Any) -> str:
        """The value as an environment variable holds it (the inverse of ``parse``)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return ",".join(str(item) for item in value)
        return str(value)

    # --- documentation ------------------------------------------------------------------------------

    @property
    def allowed(self) -> str:
        """The accepted values, in words."""
        parts = [check.requirement for check in self.checks] or [_phrase(self.kind)]
        if typing.get_origin(_unwrap_optional(self.kind)) is tuple:
            parts = ["comma-separated, each " + ", ".join(parts)]
        if self.checks and (self.empty_allowed or self.default is None):
            parts.append("or empty")
        return ", ".join(parts)

    @property
    def documented_default(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.default is REQUIRED:
            return "-"
        return f"`{self.render(self.default)}`"


def setting(
    env: str,
    *checks: Check,
    default: Any = REQUIRED,
    doc: str,
    functions: Sequence[Function] = (),
    empty_allowed: bool = False,
    secret: bool = False,
    normalize: Callable[[str], str] | None = None,
    shown_default: str | None = None,
) -> Any:
    """Declare a setting of a ``SettingsGroup``: the variable ``env``, its checks, its default (none:
    it must be set), its documentation and the ``functions`` whose environment carries it."""
    return Setting(
        env,
        default,
        checks,
        doc=doc,
        functions=tuple(functions),
        empty_allowed=empty_allowed,
        secret=secret,
        normalize=normalize,
        shown_default=shown_default,
    )


class Rule:
    """A check across settings: ``holds(values)`` for any holder of every field in ``involves``."""

    __slots__ = ("holds", "involves", "requirement", "setting")

    def __init__(
        self,
        setting: str,
        involves: tuple[str, ...],
        requirement: Callable[[Any], str],
        holds: Callable[[Any], bool],
    ) -> None:
        self.setting = setting  # the field the error names
        self.involves = involves
        self.requirement = requirement
        self.holds = holds

    def applies_to(self, holder: Record) -> bool:
        return all(name in holder.FIELDS for name in self.involves)

    def check(self, holder: Record, spec: Setting) -> None:
        if not self.holds(holder):
            value = spec.render(getattr(holder, self.setting))
            raise ValueError(f"{spec.env} must be {self.requirement(holder)}, got {value!r}")


# --- records ------------------------------------------------------------------------------------------


def _is_class_variable(annotation: Any) -> bool:
    """``ClassVar[...]``, written as a type or as a string (``from __future__ import annotations``)."""
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is ClassVar


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(setting,))
class Record:
    """A frozen record of keyword fields, declared by annotations (plain, or ``= setting(...)``)."""

    FIELDS: ClassVar[dict[str, Any]] = {}  # name -> default (REQUIRED for none), in declaration order

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls.FIELDS)
        for name, annotation in inspect.get_annotations(cls).items():
            if _is_class_variable(annotation):
                continue
            value = cls.__dict__.get(name, REQUIRED)
            if isinstance(value, Setting):
                value.name = name
                value = value.default
            fields[name] = value
        cls.FIELDS = fields

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)}")
        for name, default in self.FIELDS.items():
            if name not in values and default is REQUIRED:
                raise TypeError(f"{type(self).__name__} needs {name}")
            object.__setattr__(self, name, values.get(name, default))
        self.__post_init__()

    def __post_init__(self) -> None:
        """Checks of a subclass, run once the fields are set."""

    def replace(self, **changes: Any) -> Self:
        return type(self)(**{**self._values(), **changes})

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self), tuple(self._values().items())))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._shown().items())
        return f"{type(self).__name__}({shown})"

    def _shown(self) -> dict[str, Any]:
        return self._values()


class SettingsGroup(Record):
    """A group of declared settings: checked on construction, read with ``from_env``."""

    RULES: ClassVar[tuple[Rule, ...]] = ()

    def __post_init__(self) -> None:
        for spec in settings_of(type(self)):
            spec.validate(getattr(self, spec.name))
        for rule in self.RULES:
            rule.check(self, spec_of(type(self), rule.setting))

    def _shown(self) -> dict[str, Any]:
        return {spec.name: getattr(self, spec.name) for spec in settings_of(type(self)) if not spec.secret}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        """Read every setting of the group from ``environ``; raises ValueError naming the variable."""
        return cls(**{spec.name: spec.read(environ) for spec in settings_of(cls)})

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        return tuple(spec.env for spec in settings_of(cls))


_SETTINGS: dict[type[SettingsGroup], tuple[Setting, ...]] = {}


def settings_of(group: type[SettingsGroup]) -> tuple[Setting, ...]:
    """The settings of a group, in declaration order, with their names and types."""
    if group not in _SETTINGS:
        hints = typing.get_type_hints(group)
        specs = [
            value
            for klass in reversed(group.__mro__)
            for value in vars(klass).values()
            if isinstance(value, Setting)
        ]
        for spec in specs:
            spec.kind = hints[spec.name]
        _SETTINGS[group] = tuple(specs)
    return _SETTINGS[group]


def spec_of(group: type[SettingsGroup], name: str) -> Setting:
    for spec in settings_of(group):
        if spec.name == name:
            return spec
    raise KeyError(f"{group.__name__} declares no setting {name!r}")


def delivered_to(function: Function, groups: Sequence[type[SettingsGroup]]) -> Iterator[Setting]:
    """The settings of ``groups`` that ``function``'s environment carries."""
    for group in groups:
        for spec in settings_of(group):
            if function in spec.functions:
                yield spec


def environment_for(function: Function, *values: SettingsGroup) -> dict[str, str]:
    """The variables of ``function``'s environment that carry settings, rendered from ``values``."""
    return {
        spec.env: spec.render(getattr(group, spec.name))
        for group in values
        for spec in settings_of(type(group))
        if function in spec.functions
    }


# --- what one function reads ---------------------------------------------------------------------------


class FunctionView(Record):
    """Base of a function's typed view of its settings (a frozen record of plain fields).

    A subclass names its ``FUNCTION``; its fields must be exactly the settings of ``SOURCES`` that the
    catalog passes to that function, with the same types. ``from_env`` reads them with the catalog's
    declarations and applies the catalog's rules that concern them; ``ENV_VARS`` lists the variables.
    """

    FUNCTION: ClassVar[Function]
    SOURCES: ClassVar[tuple[type[SettingsGroup], ...]] = ()
    ENV_VARS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "FUNCTION" in cls.__dict__:
            cls.ENV_VARS = tuple(spec.env for spec in delivered_to(cls.FUNCTION, cls.SOURCES))

    @classmethod
    def declared(cls) -> dict[str, Setting]:
        """The catalog's declaration of each field; raises TypeError when the view and catalog differ."""
        expected = {spec.name: spec for spec in delivered_to(cls.FUNCTION, cls.SOURCES)}
        hints = typing.get_type_hints(cls)
        fields = {name: hints[name] for name in cls.FIELDS}
        wrong = {name for name, kind in fields.items() if name not in expected or expected[name].kind != kind}
        if wrong or set(fields) != set(expected):
            raise TypeError(
                f"{cls.__name__} must have exactly the fields the catalog passes to "
                f"{cls.FUNCTION.entry_point} with their types: {sorted(expected)}, got {sorted(fields)} "
                f"(wrong: {sorted(wrong)})"
            )
        return expected

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        declared = cls.declared()
        view = cls(**{name: spec.read(environ) for name, spec in declared.items()})
        for group in cls.SOURCES:
            for rule in group.RULES:
                if rule.applies_to(view):
                    rule.check(view, declared[rule.setting])
        return view


# --- parsing ------------------------------------------------------------------------------------------


def _parse(kind: Any, text: str) -> Any:
    kind = _unwrap_optional(kind)
    if kind is bool:
        lowered = text.lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise ValueError(text)
    if kind is int:
        if not _INTEGER.fullmatch(text):
            raise ValueError(text)
        return int(text)
    if kind in (float, Decimal):
        number = Decimal(text)
        if not number.is_finite():
            raise ValueError(text)
        return number if kind is Decimal else float(number)
    if typing.get_origin(kind) is tuple:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return text


def _phrase(kind: Any) -> str:
    kind = _unwrap_optional(kind)
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        Decimal: "a decimal number",
    }.get(kind, "a comma-separated list" if typing.get_origin(kind) is tuple else "any text")


def _unwrap_optional(kind: Any) -> Any:
    if isinstance(kind, UnionType) or typing.get_origin(kind) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(kind) if arg is not NoneType]
        return inner
    return kind
