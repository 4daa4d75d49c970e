"""Layering rules, read from the sources: the domain and the settings are pure, no module imports a higher
layer, the import graph has no cycle, and entry points stay light to import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "handlers" / "domain"

# Lowest first. A module may import its own package and the packages of lower layers, never a higher
# one; the packages of one layer do not import each other. A ``__main__`` module is a program: it may
# import anything, and nothing imports it.
# The package's modules are named as they are imported: ``card_transactions.stacks.x`` for stacks/x.py
# (``card_transactions/`` links stacks/, handlers/ and settings/).
NAMESPACE = "card_transactions"
PACKAGED = ("stacks", "handlers", "settings")
LAYERS = (
    (f"{NAMESPACE}.handlers.domain", f"{NAMESPACE}.settings"),  # the fraud domain and the settings model
    (f"{NAMESPACE}.handlers",),  # the functions: entry points, adapters (boto3), their settings views
    (f"{NAMESPACE}.stacks",),  # the construct and the app's stacks
    (NAMESPACE,),  # the package's public names: lazy exports of the construct and its props
    ("compliance", "tools"),  # the gates and the operators' tools
    ("local",),  # the local runtime
    ("bench", "examples", "main"),  # programs
)
PURE = LAYERS[0]  # these import the standard library, themselves and these libraries only (no AWS SDK)
LIBRARIES = {f"{NAMESPACE}.handlers.domain": {"fastjsonschema"}, f"{NAMESPACE}.settings": set()}
SKIPPED = frozenset({".venv", "node_modules", "build", "cdktf.out", "hcl.out", "tests", "releases"})


def module_files() -> dict[str, Path]:
    """Every module of the repository (tests and environments aside), by dotted name."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if SKIPPED.intersection(parts) or (parts[0] == NAMESPACE and len(parts) > 2):
            continue  # beside the package's __init__, the links: their modules are found in their folders
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[f"{NAMESPACE}.{name}" if parts[0] in PACKAGED else name] = path
    return found


MODULES = module_files()


def imported(path: Path) -> Iterator[str]:
    """Every name ``path`` imports, anywhere in it (type-only and function-level imports included)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the repository's modules it imports."""
    return {name: {i for i in imported(path) if i in modules and i != name} for name, path in modules.items()}


def package_of(module: str) -> str:
    names = [package for layer in LAYERS for package in layer]
    matching = [p for p in names if module == p or module.startswith(f"{p}.")]
    assert matching, f"{module} is in no layer: give its package a place in LAYERS"
    return max(matching, key=len)


def layer_of(module: str) -> int:
    package = package_of(module)
    return next(index for index, layer in enumerate(LAYERS) if package in layer)


def is_program(module: str) -> bool:
    return module.rpartition(".")[2] == "__main__"


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if is_program(target):
                found.append(f"{module} imports the program {target}")
            elif is_program(module) or package_of(target) == package_of(module):
                continue
            elif layer_of(target) >= layer_of(module):
                found.append(f"{module} (layer {package_of(module)}) imports {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while (member := stack.pop()) != module:
                component.append(member)
            if component:
                found.append(sorted([module, *component]))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


GRAPH = import_graph(MODULES)


def test_every_module_has_a_layer():
    assert {
        "card_transactions.handlers.domain.fraud",
        "card_transactions.settings.catalog",
        "card_transactions.stacks.processing",
        "local.runtime",
    } <= set(MODULES)
    assert [m for m in MODULES if not any(package_of(m) in layer for layer in LAYERS)] == []


def test_no_module_imports_a_higher_layer_or_a_program():
    assert layering_violations(GRAPH) == []


def test_the_import_graph_has_no_cycle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("package", PURE)
def test_the_pure_layer_imports_the_standard_library_itself_and_its_libraries_only(package):
    outside = {
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if package_of(module) == package and not is_program(module)
        for name in imported(path)
        if name.partition(".")[0] not in sys.stdlib_module_names | LIBRARIES[package]
        and package_of_any(name) != package
    }
    assert sorted(outside) == []


def package_of_any(name: str) -> str | None:
    return package_of(name) if name in MODULES or name.rpartition(".")[0] in MODULES else None


def test_the_rules_catch_an_upward_import_and_a_cycle():
    graph = {
        # the settings reaching up into the stacks
        "card_transactions.settings.model": {"card_transactions.stacks.config"},
        "card_transactions.stacks.config": {"card_transactions.settings.model"},
        "card_transactions.handlers.domain.errors": {"card_transactions.handlers.domain.records"},
        "card_transactions.handlers.domain.records": {"card_transactions.handlers.domain.errors"},
        "card_transactions.settings.__main__": {"local.config"},  # a program may
        "local.runtime": {"card_transactions.settings.__main__"},  # nothing imports a program
    }
    assert layering_violations(graph) == [
        "card_transactions.settings.model (layer card_transactions.settings) imports "
        "card_transactions.stacks.config",
        "local.runtime imports the program card_transactions.settings.__main__",
    ]
    assert cycles(graph) == [
        ["card_transactions.handlers.domain.errors", "card_transactions.handlers.domain.records"],
        ["card_transactions.settings.model", "card_transactions.stacks.config"],
    ]


@pytest.mark.parametrize("source", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_has_no_aws_sdk_and_no_environment(source):
    text = source.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(boto3|botocore)", text, re.MULTILINE)
    assert "os.environ" not in text
    assert "getenv" not in text


@pytest.mark.parametrize(
    "module",
    [
        "card_transactions.handlers.validation",
        "card_transactions.handlers.fraud_detection",
        "card_transactions.handlers.failed_transaction",
        "card_transactions.handlers.reconciler",
    ],
)
def test_entry_points_import_without_aws_sdk_or_xray(module):
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('boto3', 'botocore.session', 'aws_xray_sdk') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=DOMAIN.parents[1],
    )
    # boto3 is imported on the first invocation (wiring), the X-Ray SDK only when tracing is on in Lambda.
    assert result.stdout.strip() == ""
