"""The README documents every setting, so the configuration table cannot drift from the code."""

import dataclasses
from pathlib import Path

from stacks.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    missing = [
        f.metadata["env"] for f in dataclasses.fields(Settings) if f"`{f.metadata['env']}`" not in README
    ]
    assert missing == []


def test_quick_start_is_the_two_make_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines() if line.startswith("make ")]
    assert commands == ["make synth", "make test"]
