"""The documentation site builds in MkDocs' strict mode, so a broken link or anchor, or a page left out of
the nav, fails ``make test`` (``mkdocs.yml``; MkDocs runs from its own locked environment, ``tools/docs``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = ROOT / "tools" / "docs" / ".venv" / "bin" / "mkdocs"
# What a build reads: the config, the pages, the hook and the repository pages it brings in.
SOURCES = (
    "mkdocs.yml",
    "docs",
    "tools/docs/repository_pages.py",
    "README.md",
    "bench/results.md",
    "releases/README.md",
)


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    if not MKDOCS.exists():
        pytest.fail(f"{MKDOCS.relative_to(ROOT)} is missing: `make tools/docs/.venv/.synced` installs it")
    return subprocess.run(
        [
            str(MKDOCS),
            "build",
            "--strict",
            "--config-file",
            str(root / "mkdocs.yml"),
            "--site-dir",
            str(site),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A scratch copy of everything the build reads, to break on purpose."""
    for source in SOURCES:
        target = tmp_path / "repo" / source
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target)
        else:
            shutil.copy(ROOT / source, target)
    return tmp_path / "repo"


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_site_builds_strictly_with_the_readme_as_home_and_the_bench_results_as_a_page(tmp_path):
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="differences/"' in home  # the README's docs/differences.md, rewritten for the site
    benchmarks = (tmp_path / "site" / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert 'href="../bench-results/"' in benchmarks  # a page's ../bench/results.md
    assert (tmp_path / "site" / "bench-results" / "index.html").exists()


@pytest.mark.parametrize(
    ("page", "text", "reported"),
    [
        ("docs/api.md", "\nSee [the missing page](no-such-page.md).\n", "no-such-page.md"),
        ("docs/api.md", "\nSee [WAF](waf.md#no-such-section).\n", "no-such-section"),
        ("docs/api.md", "\nSee [the handler](../handlers/http.py).\n", "handlers/http.py"),
        ("README.md", "\nSee [the missing page](docs/no-such-page.md).\n", "no-such-page.md"),
        ("docs/unlisted.md", "# A page the nav leaves out\n", "unlisted.md"),
    ],
    ids=["missing-page", "missing-anchor", "outside-the-site", "readme-link", "page-not-in-nav"],
)
def test_a_broken_link_or_a_page_left_out_of_the_nav_fails_the_build(copy, tmp_path, page, text, reported):
    if (copy / page).exists():
        append(copy / page, text)
    else:
        (copy / page).write_text(text, encoding="utf-8")
    done = build(copy, tmp_path / "site")
    assert done.returncode != 0
    assert reported in done.stderr


def test_make_docs_builds_strictly_and_make_test_installs_the_docs_environment():
    docs = subprocess.run(["make", "-n", "docs"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert "mkdocs build --strict --site-dir site" in docs.stdout, docs.stderr
    test = subprocess.run(
        ["make", "-n", "-W", "tools/docs/Pipfile.lock", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "cd tools/docs && PIPENV_VENV_IN_PROJECT=1 ../../build/tools/bin/pipenv sync" in test.stdout, (
        test.stderr
    )
