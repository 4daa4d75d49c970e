"""``python -m bench``: run every benchmark, print the tables, write bench/results.md."""

from __future__ import annotations

import sys
import time

from card_transactions.stacks import bindings

bindings.activate()  # an entry point: the fast provider import before any benchmark imports a construct

from bench import (  # noqa: E402
    bench_card_numbers,
    bench_cold_start,
    bench_cost_model,
    bench_log_bytes,
    bench_requests,
    bench_synth,
    bench_throughput,
    bench_warm_cost,
)
from bench.report import ROOT, machine, now, print_section  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"


def main() -> None:
    started = time.perf_counter()
    sections = []
    for run in (
        bench_synth.run,
        bench_cold_start.run,
        bench_warm_cost.run,
        bench_requests.run,
        bench_throughput.run,
        bench_card_numbers.run,
        bench_log_bytes.run,
    ):
        section = run()
        print_section(section)
        sections.append(section)
        sys.stdout.flush()
    warm, requests, measured = sections[2], sections[3], sections[6]
    cost = bench_cost_model.run(
        per_tx=requests.data,
        cpu_us={"validation": warm.data["validation_us"], "fraud": warm.data["fraud_us"]},
        measured=bench_cost_model.Inputs(**measured.data),
    )
    print_section(cost)
    sections.append(cost)
    elapsed = time.perf_counter() - started
    headlines = {k: v for section in sections for k, v in section.headlines.items()}
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Written by `make bench` on {now()} in {elapsed / 60:.1f} min.\n\n"
        f"Machine: {machine()}.\n\n"
        "## Headlines\n\n"
        + "".join(f"- **{k}**: {v}\n" for k, v in headlines.items())
        + "\n"
        + "\n".join(section.markdown() for section in sections)
    )
    print(f"wrote {RESULTS.relative_to(ROOT)} ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
