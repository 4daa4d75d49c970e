"""Function packages: reproducible, complete for what the handlers import, and nothing else."""

from __future__ import annotations

import fcntl
import zipfile

import pytest

from stacks import bundling
from stacks.bundling import BUILD_LOCK, RUNTIME_DEPENDENCIES, function_archive, locked_requirements


def test_every_runtime_dependency_is_pinned_by_the_lock_file():
    pins = locked_requirements()
    assert [p.split("==")[0] for p in pins] == list(RUNTIME_DEPENDENCIES)
    assert all("==" in p for p in pins)


def test_archive_is_byte_identical_when_rebuilt():
    first = function_archive("validation", "arm64")
    content = first.read_bytes()
    first.unlink()
    second = function_archive("validation", "arm64")
    assert second == first
    assert second.read_bytes() == content


@pytest.mark.parametrize("entry_point", ["validation", "fraud_detection", "failed_transaction"])
def test_archive_holds_its_entry_point_shared_code_and_dependencies_only(entry_point):
    with zipfile.ZipFile(function_archive(entry_point, "arm64")) as bundle:
        files = set(bundle.namelist())
    assert f"handlers/{entry_point}.py" in files
    others = {"validation", "fraud_detection", "failed_transaction"} - {entry_point}
    assert not any(f"handlers/{other}.py" in files for other in others)
    assert "handlers/domain/transaction.schema.json" in files
    assert "settings/catalog.py" in files  # the handlers read their settings through the catalog
    assert any(f.startswith("aws_lambda_powertools/") for f in files)
    assert any(f.startswith("aws_xray_sdk/") for f in files)
    assert any(f.startswith("fastjsonschema/") for f in files)
    unwanted = ("boto3/", "botocore/", "bin/", "tests/", "stacks/", "local/", "cdktf", "constructs/", "jsii/")
    assert not any(f.startswith(unwanted) for f in files)
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)


def test_functions_get_different_archives():
    archives = {function_archive(e, "arm64") for e in ("validation", "fraud_detection", "failed_transaction")}
    assert len(archives) == 3


def test_unknown_entry_point_is_rejected():
    with pytest.raises(ValueError, match="entry_point"):
        function_archive("nope", "arm64")


def test_another_process_cannot_touch_the_build_while_an_archive_is_built(monkeypatch):
    # GIVEN a probe in place of the vendoring, which tries the lock the way another process would
    held = []

    def probe(architecture):
        with BUILD_LOCK.open("w") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(True)
            else:
                held.append(False)
        raise RuntimeError("probed")

    monkeypatch.setattr(bundling, "vendored_dependencies", probe)
    # WHEN an archive is requested THEN the build lock is held while it is built
    with pytest.raises(RuntimeError, match="probed"):
        function_archive("validation", "arm64")
    assert held == [True]
