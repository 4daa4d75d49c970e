"""The test tiers: every test needing terraform, the local runtime end to end, checkov or CDK Terrain is
marked so from its folder or a fixture it uses, and `make check` (the fast tier) leaves those out."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import NEEDS_BY_FIXTURE, NEEDS_BY_FOLDER, TESTS, needs_of

ROOT = TESTS.parent
MARKERS = set(NEEDS_BY_FOLDER.values()) | set(NEEDS_BY_FIXTURE.values())


@pytest.mark.parametrize(("folder", "marker"), sorted(NEEDS_BY_FOLDER.items()))
def test_a_new_test_in_a_marked_folder_is_marked(folder, marker):
    assert needs_of(TESTS / folder / "test_new.py", ()) == {marker}


@pytest.mark.parametrize(("fixture", "marker"), sorted(NEEDS_BY_FIXTURE.items()))
def test_a_test_using_a_marking_fixture_is_marked_wherever_it_lives(fixture, marker):
    assert needs_of(TESTS / "infra" / "test_new.py", ("stack", fixture)) == {marker}


def test_a_test_needing_nothing_more_is_not_marked():
    assert needs_of(TESTS / "unit" / "test_new.py", ("tmp_path", "synth_dir")) == set()


def test_every_marking_fixture_and_folder_exists():
    fixture = re.compile(r"^@pytest\.fixture.*\ndef (\w+)\(", re.MULTILINE)
    defined = {name for source in TESTS.rglob("*.py") for name in fixture.findall(source.read_text())}
    assert set(NEEDS_BY_FIXTURE) <= defined
    assert all((TESTS / folder).is_dir() for folder in NEEDS_BY_FOLDER)


def test_the_markers_are_declared_and_make_check_leaves_every_one_out():
    declared = set(re.findall(r'^\s+"(\w+):', (ROOT / "pyproject.toml").read_text(), re.M))
    assert declared >= MARKERS
    done = subprocess.run(["make", "-n", "check"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (selection,) = re.findall(r'pytest .*-m "([^"]+)"', done.stdout)
    left_out = re.fullmatch(r"not \((.+)\)", selection)
    assert left_out, selection
    assert set(left_out.group(1).split(" or ")) == MARKERS | {"slow"}
