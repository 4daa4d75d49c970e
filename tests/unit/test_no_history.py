"""Code and docs describe the system as it is: no reference to this project's own issues (that history
lives in the commit messages). An upstream issue is named with its project ("checkov issue 7454")."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = frozenset({"checkov", "cdktf", "moto", "terraform", "provider", "pipenv", "mkdocs", "powertools"})
ISSUE = re.compile(r"(\w+)?\W{0,2}\b[Ii]ssue[- #]{0,2}#?\d+\b")  # "issues 16 Queries" is a verb
# Text the project writes (the last release's snapshot is generated and kept as released).
SUFFIXES = (".py", ".md", ".toml", ".yml", ".yaml", ".cfg", ".txt", "Makefile", "Pipfile")


def history_markers(text: str) -> list[str]:
    return [m.group(0) for m in ISSUE.finditer(text) if (m.group(1) or "").lower() not in UPSTREAM]


def test_the_rule_tells_a_project_issue_from_an_upstream_one():
    # the examples are assembled, so this file passes its own rule like any other
    word, title = "issue", "Issue"
    assert history_markers(f"fixed here ({word} 12); see {word}-7 and {title} #3") == [
        f"here ({word} 12",
        f"see {word}-7",
        f"and {title} #3",
    ]
    assert history_markers("it crashes (checkov issue 7454); moto issue #8123") == []


def test_no_code_or_doc_names_a_project_issue():
    listed = subprocess.run(
        ["git", "ls-files"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = [
        f"{name}: {marker}"
        for name in listed
        if name.endswith(SUFFIXES) and not name.startswith("releases/last/")
        for marker in history_markers((ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == []
