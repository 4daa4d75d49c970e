"""The committed configuration of each environment: ``environments/<name>.toml``, read through the catalog.

One TOML file per environment holds the synth settings (``settings.catalog.Settings``) that differ from
their defaults. A key is the setting's environment variable in lower case (``API_CLIENTS`` is
``api_clients``), so the configuration page's table names both. Values have TOML types: booleans,
integers, strings, and arrays of strings for lists; a decimal amount is a string (``"7500.50"``) or an
integer, never a TOML float (binary floating point). Every value goes through the catalog's checks.

Precedence, per setting: a non-empty environment variable, then the file, then the catalog's default.
``describe`` says where each setting that is not at its default came from. An unknown key, a wrong type,
an out-of-range value or a secret setting stops the read with a ``ValueError`` naming the file, the key
and the value.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Generic, TypeVar, get_args, get_origin

from card_transactions.settings.model import Setting, SettingsGroup, settings_of

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS_DIR = ROOT / "environments"
# The process variable naming the environment (``make ... ENV=prod`` sets it); unset: ``dev``.
ENVIRONMENT_VARIABLE = "DEPLOY_ENV"
DEFAULT_ENVIRONMENT = "dev"
_ENVIRONMENT_NAME = re.compile(r"[a-z][a-z0-9-]{0,15}")
FROM_ENVIRONMENT = "environment"

G = TypeVar("G", bound=SettingsGroup)


def key_of(spec: Setting) -> str:
    """The setting's key in an environment file: its variable in lower case."""
    return spec.env.lower()


def environment_file(name: str, directory: Path = ENVIRONMENTS_DIR) -> Path:
    """``directory/<name>.toml``; a ValueError lists the environments there when it does not exist."""
    if not _ENVIRONMENT_NAME.fullmatch(name):
        raise ValueError(
            f"environment name must be 1-16 chars of a-z, 0-9, '-', starting with a letter, got {name!r}"
        )
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.toml"))) or "none"
        raise ValueError(f"no environment file {shown_path(path)} (environments: {known})")
    return path


@dataclass(frozen=True)
class Origin:
    """Where a setting that is not at its default came from."""

    key: str
    shown: str  # the value as the file or variable gives it
    source: str  # the file's path, or ``environment`` (its variable then)
    variable: str

    def describe(self) -> str:
        where = f"environment variable {self.variable}" if self.source == FROM_ENVIRONMENT else self.source
        return f"{self.key} = {self.shown} ({where})"


@dataclass(frozen=True)
class Loaded(Generic[G]):
    """The settings of one environment and where each non-default one came from."""

    name: str
    path: Path
    settings: G
    origins: tuple[Origin, ...]

    @property
    def file(self) -> str:
        """The file, as the messages name it (``environments/prod.toml``)."""
        return shown_path(self.path)

    def describe(self) -> str:
        head = f"settings of environment {self.name} ({self.file})"
        if not self.origins:
            return f"{head}: every setting at its default"
        return "\n".join([f"{head}, not at their defaults:", *(f"  {o.describe()}" for o in self.origins)])


def read_file(path: Path, group: type[SettingsGroup]) -> dict[str, Any]:
    """The values ``path`` sets, by setting name, parsed and checked one by one."""
    file = shown_path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{file} is not valid TOML: {error}") from None
    specs = {key_of(spec): spec for spec in settings_of(group)}
    values = {}
    for key, raw in table.items():
        spec = specs.get(key)
        if spec is None:
            raise ValueError(
                f"{file}: unknown key {key!r} = {_toml(raw)} (keys are the settings' variables in "
                "lower case, docs/configuration.md)"
            )
        if spec.secret:
            raise ValueError(f"{file}: {key} is a secret and never goes in a file")
        named = f"{file}: {key}"
        value = _typed(spec, raw, named)
        spec.validate(value, named=named)
        values[spec.name] = value
    return values


def load(group: type[G], path: Path, environ: Mapping[str, str], name: str | None = None) -> Loaded[G]:
    """``group`` from ``path``, each non-empty variable of ``environ`` overriding its setting."""
    from_file = read_file(path, group)
    values: dict[str, Any] = {}
    origins = []
    for spec in settings_of(group):
        overridden = bool((environ.get(spec.env) or "").strip())
        if overridden:
            values[spec.name] = spec.read(environ)
        elif spec.name in from_file:
            values[spec.name] = from_file[spec.name]
        else:
            continue
        if values[spec.name] != spec.default:
            source = FROM_ENVIRONMENT if overridden else shown_path(path)
            shown = _shown_value(spec, values[spec.name])
            origins.append(Origin(key_of(spec), shown, source, spec.env))
    try:
        settings = group(**values)
    except ValueError as error:
        overrides = [o.variable for o in origins if o.source == FROM_ENVIRONMENT]
        also = f" with {', '.join(overrides)} from the environment" if overrides else ""
        raise ValueError(f"{shown_path(path)}{also}: {error}") from None
    return Loaded(name or path.stem, path, settings, tuple(origins))


def load_environment(
    group: type[G], environ: Mapping[str, str], directory: Path = ENVIRONMENTS_DIR
) -> Loaded[G]:
    """The environment ``environ`` names (``DEPLOY_ENV``, default ``dev``), from its file."""
    name = (environ.get(ENVIRONMENT_VARIABLE) or "").strip() or DEFAULT_ENVIRONMENT
    return load(group, environment_file(name, directory), environ, name)


# --- TOML values -------------------------------------------------------------------------------------


_SCALARS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool), "true or false (a TOML boolean)"),
    int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
}


def _typed(spec: Setting, raw: Any, named: str) -> Any:
    """The TOML value as the setting's type; a ValueError naming the key when the TOML type is wrong."""
    kind = _unwrap_optional(spec.kind)
    wrong = f"{named} must be {{}}, got {_toml(raw)}"
    if kind is Decimal:
        return _decimal(raw, wrong)
    if get_origin(kind) is tuple:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise ValueError(wrong.format("an array of strings"))
        return tuple(item.strip() for item in raw)
    accepts, phrase = _SCALARS[kind]
    if not accepts(raw):
        raise ValueError(wrong.format(phrase))
    if kind is float:
        return float(raw)
    if kind is str:
        text = raw.strip()
        return spec.normalize(text) if spec.normalize is not None and text else text
    return raw


def _decimal(raw: Any, wrong: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError(wrong.format('a decimal number written as a string ("7500.50") or an integer'))
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(wrong.format("a decimal number")) from None
    if not number.is_finite():
        raise ValueError(wrong.format("a finite decimal number"))
    return number


def _unwrap_optional(kind: Any) -> Any:
    if isinstance(kind, UnionType):
        (inner,) = [arg for arg in get_args(kind) if arg is not NoneType]
        return inner
    return kind


def _toml(value: Any) -> str:
    """A value as TOML writes it (errors quote what the file says)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


def _shown_value(spec: Setting, value: Any) -> str:
    if spec.secret:
        return f"<{len(spec.render(value))} characters>"
    if isinstance(value, Decimal):
        return f'"{value}"'
    return _toml(value)


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when inside it (``environments/prod.toml``)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m settings.environments [describe | get KEY]``: the settings of the environment that
    ``DEPLOY_ENV`` names (``make``'s ENV), checked; ``get`` prints one value as the file key names it
    (the workflows read the region this way)."""
    import argparse
    import os
    import sys

    from card_transactions.settings.catalog import Settings

    parser = argparse.ArgumentParser(prog="python -m settings.environments", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("describe", help="check the file and print where each non-default setting came from")
    get = commands.add_parser("get", help="print one setting's value")
    get.add_argument("key", help="a key of the file, e.g. aws_region")
    args = parser.parse_args(argv)
    try:
        loaded = load_environment(Settings, os.environ)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.command == "describe":
        print(loaded.describe())
        return 0
    spec = next((s for s in settings_of(Settings) if key_of(s) == args.key), None)
    if spec is None:
        print(f"error: no setting has the key {args.key!r}", file=sys.stderr)
        return 1
    print(spec.render(getattr(loaded.settings, spec.name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
