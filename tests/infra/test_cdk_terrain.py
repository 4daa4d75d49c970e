"""CDK Terrain (cdktn) synthesizes the same stacks as cdktf, through the one import seam, stacks/bindings.py.

These compare the two outputs whole, so the other infra tests need to read only the cdktf output
(``tests/infra/conftest.py``), and test the seam itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from card_transactions.stacks.app import STATE_BACKEND_STACK, TRANSACTION_STACK
from card_transactions.stacks.bindings import (
    CDKTF,
    CDKTN,
    ROOT,
    TOOLKIT_ENV,
    PackageAlias,
    alias_toolkit,
    selected_toolkit,
)

# The only keys in which the two toolkits' cdk.tf.json differ (docs/cdk-toolkits.md).
METADATA_VERSION = ("//", "metadata", "version")
AWS_PROVIDER = ("terraform", "required_providers", "aws")
DOCUMENTED = {
    CDKTF.name: {METADATA_VERSION: "0.21.0", AWS_PROVIDER: {"source": "aws", "version": "6.25.0"}},
    CDKTN.name: {METADATA_VERSION: "0.24.0", AWS_PROVIDER: {"source": "hashicorp/aws", "version": "6.69.1"}},
}


def differences(a: Any, b: Any, path: tuple = ()) -> list[tuple]:
    """Paths at which two JSON documents differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(a.keys() | b.keys())
        return [d for key in keys for d in differences(a.get(key), b.get(key), (*path, key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, (*path, i))]
    return [] if a == b else [path]


def value_at(doc: dict, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@pytest.mark.parametrize("stack", [TRANSACTION_STACK, STATE_BACKEND_STACK])
def test_both_toolkits_write_the_same_stack_but_for_the_documented_keys(synth_dir, cdktn_synth_dir, stack):
    docs = {
        toolkit: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
        for toolkit, outdir in ((CDKTF.name, synth_dir), (CDKTN.name, cdktn_synth_dir))
    }
    assert differences(docs[CDKTF.name], docs[CDKTN.name]) == [
        METADATA_VERSION,
        (*AWS_PROVIDER, "source"),
        (*AWS_PROVIDER, "version"),
    ]
    for toolkit, doc in docs.items():
        assert {path: value_at(doc, path) for path in DOCUMENTED[toolkit]} == DOCUMENTED[toolkit]


def test_both_toolkits_write_the_same_assets_and_versions_files(synth_dir, cdktn_synth_dir):
    def files(outdir: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(outdir)): p.read_bytes()
            for p in (outdir / "stacks").rglob("*")
            if p.is_file() and p.name != "cdk.tf.json"
        }

    cdktf_files, cdktn_files = files(synth_dir), files(cdktn_synth_dir)
    assert sorted(cdktf_files) == sorted(cdktn_files)
    assert any("/assets/" in name for name in cdktf_files)
    assert [name for name in cdktf_files if cdktf_files[name] != cdktn_files[name]] == []


def test_the_docs_name_the_locked_versions_of_both_toolkits():
    page = (ROOT / "docs" / "cdk-toolkits.md").read_text()
    for lockfile, packages in (
        (ROOT / "Pipfile.lock", ("cdktf", "cdktf-cdktf-provider-aws")),
        (ROOT / "tools" / "cdktn" / "Pipfile.lock", ("cdktn", "cdktn-provider-aws")),
    ):
        locked = json.loads(lockfile.read_text())["default"]
        for package in packages:
            assert f"`{package}` {locked[package]['version'].removeprefix('==')}" in page


def test_the_toolkit_is_cdktf_unless_cdktn_is_chosen():
    assert selected_toolkit({}) is CDKTF
    assert selected_toolkit({TOOLKIT_ENV: "cdktn"}) is CDKTN
    with pytest.raises(ValueError, match=r"CDK_TOOLKIT must be one of \['cdktf', 'cdktn'\], got 'cdk'"):
        selected_toolkit({TOOLKIT_ENV: "cdk"})


@pytest.fixture
def real_package(tmp_path, monkeypatch):
    """A package ``realpkg`` with a submodule, importable from ``tmp_path``; imports undone afterwards."""
    (tmp_path / "realpkg").mkdir()
    (tmp_path / "realpkg" / "__init__.py").write_text("")
    (tmp_path / "realpkg" / "sub.py").write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    yield
    for name in ("realpkg", "realpkg.sub", "aliaspkg", "aliaspkg.sub"):
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("real_package")
def test_an_aliased_package_and_its_submodules_are_the_very_same_modules():
    # GIVEN the alias installed as the seam does
    sys.meta_path.insert(0, PackageAlias("aliaspkg", "realpkg"))
    # WHEN the code imports through the alias, then under the real name
    from aliaspkg.sub import Thing  # type: ignore[import-not-found]  # noqa: I001 (alias first)
    import aliaspkg  # type: ignore[import-not-found]
    import realpkg  # type: ignore[import-not-found]
    import realpkg.sub  # type: ignore[import-not-found]

    # THEN each module exists (and ran) once, and keeps its own name and spec
    assert aliaspkg is realpkg
    assert sys.modules["aliaspkg.sub"] is realpkg.sub
    assert Thing is realpkg.sub.Thing
    specs = (realpkg.__spec__, realpkg.sub.__spec__)
    assert [spec.name if spec else None for spec in specs] == ["realpkg", "realpkg.sub"]


def test_choosing_cdktn_where_it_is_not_installed_says_how_to_run_it(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    with pytest.raises(ModuleNotFoundError, match=r"make synth CDK_TOOLKIT=cdktn.*tools/cdktn/\.venv"):
        alias_toolkit(CDKTN)
    assert not any(isinstance(finder, PackageAlias) for finder in sys.meta_path)


def make_dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("toolkit", "interpreter"), [("cdktf", ".venv/bin/python"), ("cdktn", "tools/cdktn/.venv/bin/python")]
)
def test_make_synth_runs_the_app_in_the_chosen_toolkits_environment(toolkit, interpreter):
    done = make_dry_run("synth", f"{TOOLKIT_ENV}={toolkit}")
    assert done.returncode == 0, done.stderr
    assert f"{TOOLKIT_ENV}={toolkit} {interpreter} main.py" in done.stdout


def test_make_rejects_an_unknown_toolkit():
    done = make_dry_run("synth", f"{TOOLKIT_ENV}=pulumi")
    assert done.returncode != 0
    assert "CDK_TOOLKIT must be cdktf or cdktn, got 'pulumi'" in done.stderr
