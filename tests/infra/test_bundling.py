"""Function packages: reproducible, complete for what the handlers import, and nothing else."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from card_transactions.settings.system import FUNCTIONS
from card_transactions.stacks import bundling
from card_transactions.stacks.bundling import build_dir, function_archive, function_requirements

ROOT = Path(__file__).resolve().parents[2]


def test_the_functions_pins_are_the_lock_files():
    """The functions run the versions the handler tests run (Pipfile.lock), read from the code's own
    requirements file, never from the lock at synth."""
    default = json.loads((ROOT / "Pipfile.lock").read_text())["default"]
    pins = function_requirements()
    assert [p.split("==")[0] for p in pins] == [
        "aws-lambda-powertools",
        "aws-xray-sdk",
        "wrapt",
        "fastjsonschema",
        "typing-extensions",
    ]
    assert pins == [f"{name}{default[name]['version']}" for name in (p.split("==")[0] for p in pins)]


def test_an_unpinned_function_dependency_is_refused(tmp_path):
    requirements = tmp_path / "lambda-requirements.txt"
    requirements.write_text("# comment\naws-lambda-powertools>=3\n")
    with pytest.raises(ValueError, match=r"needs an exact pin, got \['aws-lambda-powertools>=3'\]"):
        function_requirements(requirements)


def test_archive_is_byte_identical_when_rebuilt(tmp_path, monkeypatch):
    first = function_archive("validation", "arm64")
    deps = bundling.vendored_dependencies("arm64")
    # Rebuilt in a build directory of its own: deleting the shared archive would pull it from under a
    # synth in another test worker (which copies it without the build lock).
    monkeypatch.setenv(bundling.BUILD_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(bundling, "vendored_dependencies", lambda architecture: deps)
    second = function_archive("validation", "arm64")
    assert second.parent == tmp_path / "archives"
    assert second.name == first.name
    assert second.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("entry_point", ["validation", "fraud_detection", "failed_transaction"])
def test_archive_holds_its_entry_point_shared_code_and_dependencies_only(entry_point):
    with zipfile.ZipFile(function_archive(entry_point, "arm64")) as bundle:
        files = set(bundle.namelist())
    assert f"card_transactions/handlers/{entry_point}.py" in files
    others = {"validation", "fraud_detection", "failed_transaction"} - {entry_point}
    assert not any(f"card_transactions/handlers/{other}.py" in files for other in others)
    assert "card_transactions/handlers/domain/transaction.schema.json" in files
    assert "card_transactions/settings/catalog.py" in files  # the handlers read their settings there
    assert "card_transactions/__init__.py" in files  # the namespace: its exports load nothing here
    assert any(f.startswith("aws_lambda_powertools/") for f in files)
    assert any(f.startswith("aws_xray_sdk/") for f in files)
    assert any(f.startswith("fastjsonschema/") for f in files)
    unwanted = ("boto3/", "botocore/", "bin/", "tests/", "local/", "cdktf", "constructs/", "jsii/")
    assert not any(f.startswith(unwanted) for f in files)
    top_level = {f.split("/")[0] for f in files if not f.startswith(("aws_", "fastjsonschema", "wrapt"))}
    assert {t for t in top_level if ".dist-info" not in t} == {"card_transactions", "typing_extensions.py"}
    assert not any(f.startswith(("card_transactions/stacks/", "card_transactions/py.typed")) for f in files)
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
        with (build_dir() / ".lock").open("w") as other:
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


def test_packages_are_built_under_the_working_directory_or_the_chosen_one(tmp_path, monkeypatch):
    """Never beside the installed package (a wheel's site-packages is no place for a build cache)."""
    monkeypatch.chdir(tmp_path)
    assert build_dir({}) == tmp_path.resolve() / "build" / "lambda"
    assert build_dir({"CARD_TRANSACTIONS_BUILD_DIR": "elsewhere"}) == tmp_path.resolve() / "elsewhere"


def test_sources_are_read_from_where_python_imports_the_package():
    import card_transactions.handlers

    files = dict(bundling._handler_files("validation"))
    handlers = Path(card_transactions.handlers.__file__).parent
    assert files["card_transactions/handlers/validation.py"] == handlers / "validation.py"


LAMBDA_IMPORT = """
import importlib, sys
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
import card_transactions
assert card_transactions.__file__.startswith(sys.argv[2]), card_transactions.__file__
loaded = [m for m in sys.modules if m.startswith(("cdktf", "constructs", "jsii", "card_transactions.stacks"))]
assert not loaded, loaded
print(handler.__module__)
"""


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.entry_point)
def test_the_handler_string_imports_from_the_package_alone(function, tmp_path):
    """What Lambda does with the zip: import the handler named by the function's ``handler`` from the
    package's root (the runtime's boto3 and jmespath from this environment), without the construct."""
    with zipfile.ZipFile(function_archive(function.entry_point, "arm64")) as bundle:
        bundle.extractall(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA_IMPORT, function.handler, str(tmp_path)],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-2"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == function.handler.rpartition(".")[0]
