"""Function packages: deterministic, complete for what the handlers import, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.bundling import RUNTIME_DEPENDENCIES, function_directory, locked_requirements


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def test_every_runtime_dependency_is_pinned_by_the_lock_file():
    pins = locked_requirements()
    assert [p.split("==")[0] for p in pins] == list(RUNTIME_DEPENDENCIES)
    assert all("==" in p for p in pins)


def test_package_is_identical_from_build_to_build():
    first = _files(function_directory("validation", "arm64"))
    second = _files(function_directory("validation", "arm64"))
    assert first == second


@pytest.mark.parametrize("entry_point", ["validation", "fraud_detection", "failed_transaction"])
def test_package_holds_its_entry_point_shared_code_and_dependencies_only(entry_point):
    files = set(_files(function_directory(entry_point, "arm64")))
    assert f"handlers/{entry_point}.py" in files
    others = {"validation", "fraud_detection", "failed_transaction"} - {entry_point}
    assert not any(f"handlers/{other}.py" in files for other in others)
    assert "handlers/domain/transaction.schema.json" in files
    assert any(f.startswith("aws_lambda_powertools/") for f in files)
    assert any(f.startswith("fastjsonschema/") for f in files)
    assert not any(f.startswith(("boto3/", "botocore/", "bin/", "tests/")) for f in files)
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)


def test_unknown_entry_point_is_rejected():
    with pytest.raises(ValueError, match="entry_point"):
        function_directory("nope", "arm64")
