"""Terraform HCL for every stack: the CDK's own HCL synth, made valid and ``terraform fmt``-clean.

``cdktf synth --hcl``, HashiCorp's way off CDK for Terraform, runs the app with ``SYNTH_HCL_OUTPUT=true``
and the core library writes each stack as ``cdk.tf`` instead of ``cdk.tf.json`` (CDK Terrain does the
same). That HCL is not valid Terraform as written. One pass over each file fixes it:

1. Arguments the provider bindings leave untyped (here the WAFv2 ``rule.statement``) are written as an
   object, ``statement = {...}``, under a warning comment, where Terraform needs nested blocks. They are
   rewritten as blocks: every object inside is a block, a list of objects repeats the block (WAFv2
   statements have no map arguments). The warning goes with it.
2. ``depends_on`` and the lifecycle reference lists hold quoted references, deprecated since 0.12.
3. An argument whose whole value is one interpolation, ``"${aws_x.y.arn}"``, is unwrapped as
   ``terraform fmt`` does, and the file is formatted with hclwrite (``@cdktf/hcl-tools``, pinned in
   ``package-lock.json``): the result is what ``terraform fmt`` writes, without needing terraform.

The scanner understands the line-per-item layout the CDK writes and stops with ``HclError`` naming the
line on anything else, so an unexpected shape is never rewritten silently.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

ROOT = Path(__file__).resolve().parent.parent
HCL_OUT = ROOT / "hcl.out"  # at the depth of cdktf.out/, so the local backend's relative path still holds
NODE_MODULES = ROOT / "node_modules"
PINNED_NODE = NODE_MODULES / "node" / "bin" / "node"
UNTYPED_WARNING_FIRST = "# Warning: The following attribute is of an unexpected type."
UNTYPED_WARNING_LAST = "# We understand this is not ideal"
REFERENCE_LISTS = frozenset({"depends_on", "ignore_changes", "replace_triggered_by"})
REFERENCE = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+")
IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")
_FORMAT_JS = """
const { format } = require(process.argv[1]);
let source = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (source += chunk));
process.stdin.on("end", async () => process.stdout.write(await format(source)));
"""


class HclError(ValueError):
    """The HCL has a shape this module does not rewrite."""


# --- Scanning: strings (with nested interpolations) are skipped, brackets counted per line.


def _skip_string(text: str, i: int) -> int:
    """Index just past the quoted template that starts at ``text[i] == '"'``."""
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            i = _skip_template_sequence(text, i + 2)
        else:
            i += 1
    raise HclError(f"unterminated string: {text!r}")


def _skip_template_sequence(text: str, i: int) -> int:
    """Index just past the ``}`` that closes a template sequence whose body starts at ``i``."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _skip_string(text, i)
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    raise HclError(f"unterminated interpolation: {text!r}")


def _bracket_delta(line: str) -> int:
    """Opening minus closing brackets outside strings and comments."""
    delta, i = 0, 0
    while i < len(line):
        char = line[i]
        if char == '"':
            i = _skip_string(line, i)
            continue
        if char == "#" or line.startswith("//", i):
            break
        if line.startswith("<<", i):
            raise HclError(f"heredocs are not supported: {line!r}")
        delta += (char in "{[(") - (char in "}])")
        i += 1
    return delta


# --- Walking lines with their context: a block body, an object or a tuple.

BLOCK, OBJECT, TUPLE = "block", "object", "tuple"


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, for error messages
    text: str  # stripped
    context: str  # what the line sits in: BLOCK (also the top level), OBJECT or TUPLE
    key: str | None  # the argument or object key a ``key = ...`` line assigns
    opens: str | None  # BLOCK, OBJECT or TUPLE when the line opens one
    closes: bool  # the line only closes the innermost container

    @property
    def value(self) -> str:
        return self.text.split("=", 1)[1].strip()


def _key(text: str) -> str | None:
    match = re.match(r'("[^"]*"|[A-Za-z_][\w-]*)\s*=(?!=)', text)
    return match.group(1) if match else None


def walk(text: str) -> Iterator[Line]:
    """Every line of ``text`` in the CDK's one-item-per-line layout, with its context."""
    stack = [BLOCK]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        delta = 0 if line.startswith(("#", "//")) else _bracket_delta(line)
        key = _key(line)
        opens = None
        if delta == 1 and line.endswith("{"):
            opens = OBJECT if key is not None or line == "{" else BLOCK
        elif delta == 1 and line.endswith("["):
            opens = TUPLE
        closes = delta == -1 and line.rstrip(",") in ("}", "]")
        if delta and not (opens or closes):
            raise HclError(f"line {number}: unsupported layout: {line!r}")
        yield Line(number, line, stack[-1], key, opens, closes)
        if opens:
            stack.append(opens)
        elif closes:
            if len(stack) == 1:
                raise HclError(f"line {number}: unbalanced {line!r}")
            stack.pop()
    if len(stack) != 1:
        raise HclError(f"unclosed {stack[-1]} at the end of the file")


# --- 1. Untyped arguments as nested blocks.


@dataclass(frozen=True)
class Leaf:
    """An expression kept as written."""

    source: str


Node: TypeAlias = "Leaf | dict[str, Node] | list[Node]"


def _parse_container(lines: list[Line], i: int, kind: str) -> tuple[Node, int]:
    """The object or tuple whose items start at ``lines[i]``; returns it and the index after its end."""
    items: dict[str, Node] = {}
    elements: list[Node] = []
    while i < len(lines):
        line = lines[i]
        if line.closes:
            return (items if kind == OBJECT else elements), i + 1
        if kind == OBJECT and line.key is None:
            raise HclError(f"line {line.number}: expected `key = value` in an object: {line.text!r}")
        if line.opens:
            node, i = _parse_container(lines, i + 1, line.opens)
        else:
            node, i = Leaf((line.value if kind == OBJECT else line.text).rstrip(",").strip()), i + 1
        if kind == OBJECT:
            items[_block_name(line)] = node
        else:
            elements.append(node)
    raise HclError("unclosed container in an untyped argument")


def _block_name(line: Line) -> str:
    name = (line.key or "").strip('"')
    if not IDENTIFIER.fullmatch(name):
        raise HclError(f"line {line.number}: {line.key!r} cannot name a block")
    return name


def _as_blocks(name: str, node: Node, number: int) -> list[str]:
    """``node`` (the value of argument ``name``) written as nested blocks."""
    if isinstance(node, dict):
        return [f"{name} {{", *_block_body(node, number), "}"]
    if isinstance(node, list) and node and all(isinstance(e, dict) for e in node):
        return [line for element in node for line in _as_blocks(name, element, number)]
    raise HclError(f"line {number}: {name!r} is neither an object nor a list of objects")


def _block_body(items: Mapping[str, Node], number: int) -> list[str]:
    lines = []
    for key, node in items.items():
        if isinstance(node, Leaf):
            lines.append(f"{key} = {node.source}")
        elif isinstance(node, list) and node and all(isinstance(e, Leaf) for e in node):
            lines.append(f"{key} = [{', '.join(e.source for e in node)}]")  # type: ignore[union-attr]
        else:
            lines += _as_blocks(key, node, number)
    return lines


def untyped_arguments_as_blocks(text: str) -> str:
    """Rewrite each argument under the CDK's "unexpected type" warning as nested blocks."""
    lines = list(walk(text))
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].text.startswith(UNTYPED_WARNING_FIRST):
            out.append(lines[i].text)
            i += 1
            continue
        start = lines[i].number
        if out and not out[-1]:
            out.pop()  # the blank line the CDK leaves before the warning
        while i < len(lines) and not lines[i].text.startswith(UNTYPED_WARNING_LAST):
            i += 1
        i += 1
        while i < len(lines) and not lines[i].text:
            i += 1
        if i == len(lines) or lines[i].key is None or lines[i].opens not in (OBJECT, TUPLE):
            raise HclError(f"line {start}: the warning is not followed by an object or list argument")
        name = _block_name(lines[i])
        node, i = _parse_container(lines, i + 1, lines[i].opens)  # type: ignore[arg-type]
        out += _as_blocks(name, node, start)
        while i < len(lines) and not lines[i].text:
            i += 1  # the blank line the CDK leaves after the argument
    return "\n".join(out) + "\n"


# --- 2. Quoted references in meta-arguments.


def unquote_meta_references(text: str) -> str:
    """``depends_on = ["aws_x.y"]`` -> ``depends_on = [aws_x.y]`` (also in the lifecycle lists)."""
    out = []
    in_reference_list = False
    for line in walk(text):
        if in_reference_list and line.context == TUPLE and not line.opens and not line.closes:
            quoted = line.text.rstrip(",")
            if quoted.startswith('"') and REFERENCE.fullmatch(quoted.strip('"')):
                out.append(quoted.strip('"') + ("," if line.text.endswith(",") else ""))
                continue
        if line.opens:
            in_reference_list = line.opens == TUPLE and line.key in REFERENCE_LISTS
        elif line.closes:
            in_reference_list = False
        out.append(line.text)
    return "\n".join(out) + "\n"


# --- 3. Lone interpolations unwrapped, as terraform fmt does for block arguments.


def lone_interpolation(value: str) -> str | None:
    """``aws_x.y.arn`` for the value ``"${aws_x.y.arn}"``; None if the string is anything more."""
    if not value.startswith('"${'):
        return None
    end = _skip_template_sequence(value, 3)
    if value[end:] != '"':
        return None
    return value[3 : end - 1].strip()


def unwrap_interpolations(text: str) -> str:
    out = []
    for line in walk(text):
        inner = lone_interpolation(line.value) if line.key and line.context == BLOCK else None
        if line.opens or inner is None:
            out.append(line.text)
        else:
            out.append(f"{line.key} = {inner}")
    return "\n".join(out) + "\n"


# --- Formatting and the export.


def format_hcl(text: str) -> str:
    """``text`` as hclwrite formats it (``terraform fmt`` without its value rewrites)."""
    node = str(PINNED_NODE) if PINNED_NODE.exists() else shutil.which("node")
    tools = NODE_MODULES / "@cdktf" / "hcl-tools"
    if node is None or not tools.exists():
        raise FileNotFoundError("node and @cdktf/hcl-tools are needed to format HCL: run `make install`")
    done = subprocess.run(  # noqa: S603 - fixed program and script
        [node, "-e", _FORMAT_JS, str(tools)], input=text, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise HclError(f"hclwrite could not format the HCL:\n{done.stderr}")
    return done.stdout


def fix_hcl(text: str) -> str:
    """The CDK's HCL as valid, ``terraform fmt``-clean Terraform."""
    return format_hcl(unwrap_interpolations(unquote_meta_references(untyped_arguments_as_blocks(text))))


def stack_files(outdir: Path) -> dict[str, Path]:
    """Each stack's synthesized file, from the manifest of a synth."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: outdir / stack["synthesizedStackPath"] for name, stack in manifest["stacks"].items()}


def export(outdir: Path, python: str = sys.executable) -> dict[str, Path]:
    """Synthesize every stack as HCL into ``outdir`` (emptied first) and fix each file in place."""
    shutil.rmtree(outdir, ignore_errors=True)
    done = subprocess.run(  # noqa: S603 - the app's own entry point
        [python, str(ROOT / "main.py")],
        cwd=ROOT,
        env={**os.environ, "SYNTH_HCL_OUTPUT": "true", "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"HCL synth failed:\n{done.stdout}\n{done.stderr}")
    files = stack_files(outdir)
    for path in files.values():
        if path.suffix != ".tf":
            raise HclError(f"{path} is not HCL: did the synth ignore SYNTH_HCL_OUTPUT?")
        try:
            path.write_text(fix_hcl(path.read_text()))
        except HclError as error:
            raise HclError(f"{path}: {error}") from error
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HCL_OUT, help="output directory (emptied first)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the toolkit's environment")
    args = parser.parse_args(argv)
    for name, path in export(args.out, args.python).items():
        print(f"{name}: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
