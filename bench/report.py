"""Shared pieces of the benchmarks: child processes measured, machine description, markdown tables."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Section:
    """One benchmark's result: a title, a table, notes, and headline numbers for the README."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]] = ()
    notes: list[str] = field(default_factory=list)
    headlines: dict[str, str] = field(default_factory=dict)
    data: dict[str, float] = field(default_factory=dict)  # numbers later benchmarks build on

    def markdown(self) -> str:
        lines = [
            f"## {self.title}",
            "",
            "| " + " | ".join(self.header) + " |",
            "|" + "---|" * len(self.header),
        ]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"{memory_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"
    )


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Runs a command, then reports its wall time and the peak RSS of it and its descendants (the
# wrapper's RUSAGE_CHILDREN covers only this one command).
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": done.returncode, "out": done.stdout, "err": done.stderr[-4000:],
                  "seconds": elapsed, "peak_mib": peak / 1024}))
"""


@dataclass(frozen=True)
class ChildRun:
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float


def run_child(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> ChildRun:
    """Run ``args`` in a fresh process; wall time and peak memory of that process tree."""
    import json

    wrapper = subprocess.run(
        [PYTHON, "-c", _MEASURE, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(wrapper.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result['rc']}):\n{result['err']}")
    return ChildRun(result["out"], result["err"], result["seconds"], result["peak_mib"])


def print_section(section: Section) -> None:
    print(section.markdown())
