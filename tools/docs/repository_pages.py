"""MkDocs hook: the repository's Markdown outside ``docs/`` joins the site, its links checked like the pages'.

``README.md`` is the site's home page, and ``bench/results.md`` and ``releases/README.md`` are pages of it:
one copy of each, read on the forge and in the site alike. Links between these files and ``docs/`` are
written as the repository reads them (``docs/runbooks.md`` in the README, ``../bench/results.md`` in a
page); this hook rewrites each to the site's path. A link to anything else outside ``docs/`` is left as
written, so strict mode reports it as a broken link.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
# repository path -> its path in the site
PAGES = {
    "README.md": "index.md",
    "bench/results.md": "bench-results.md",
    "releases/README.md": "releases-process.md",
}
SOURCES = {site: repository for repository, site in PAGES.items()}
LINK_TARGET = re.compile(r"(?<=\]\()([^)\s#]+)")


def on_files(files: Files, config: Any) -> Files:
    for repository, site in PAGES.items():
        files.append(File.generated(config, site, abs_src_path=str(ROOT / repository)))
    return files


def _site_path(repository_path: str) -> str | None:
    if repository_path in PAGES:
        return PAGES[repository_path]
    if repository_path.startswith("docs/"):
        return repository_path.removeprefix("docs/")
    return None


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    source = SOURCES.get(page.file.src_uri, f"docs/{page.file.src_uri}")

    def rewrite(match: re.Match[str]) -> str:
        target = match.group(1)
        if ":" in target or target.startswith("/"):
            return target
        site = _site_path(posixpath.normpath(posixpath.join(posixpath.dirname(source), target)))
        if site is None:
            return target
        return posixpath.relpath(site, posixpath.dirname(page.file.src_uri) or ".")

    return LINK_TARGET.sub(rewrite, markdown)
