"""Cold-start proxy: importing each handler from its unzipped package, against ``import boto3``.

Each measurement is a fresh interpreter with the package first on ``sys.path`` (like
``/var/task``) and the environment a deployed function gets: its variables from the synthesized
stack plus the variables the Lambda runtime sets (which switch Powertools' tracer on). Target: a
handler import costs at most 1.5x ``import boto3`` measured the same way in the same run.
"""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.report import PYTHON, ROOT, Section, print_section, run_child
from card_transactions.stacks.bundling import ENTRY_POINTS, function_archive

TARGET_RATIO = 1.5
_TIMED_IMPORT = (
    "import sys, time; t = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - t, 'botocore' in sys.modules)"
)
_LAMBDA_RUNTIME_ENV = {
    "AWS_REGION": "us-east-2",
    "AWS_DEFAULT_REGION": "us-east-2",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "POWERTOOLS_TRACE_DISABLED": "false",
}


def function_environment(entry_point: str) -> dict[str, str]:
    """The function's variables as synthesized, with references replaced by plausible literals."""
    stack = json.loads((ROOT / "cdktf.out/stacks/transaction-processing/cdk.tf.json").read_text())
    (function,) = [
        f
        for f in stack["resource"]["aws_lambda_function"].values()
        if f["handler"] == f"card_transactions.handlers.{entry_point}.handler"
    ]
    variables = function["environment"]["variables"]
    return {
        name: (
            "arn:aws:sns:us-east-2:123456789012:alerts"
            if name.endswith("_ARN")
            else "https://sqs.us-east-2.amazonaws.com/123456789012/q"
            if name.endswith("_URL")
            else value
        )
        if value.startswith("${")
        else value
        for name, value in variables.items()
    } | {"AWS_LAMBDA_FUNCTION_NAME": function["function_name"], "_HANDLER": function["handler"]}


def _timed_import(module: str, path: Path, env: dict[str, str]) -> tuple[float, bool]:
    """Seconds to import ``module`` in a fresh interpreter, and whether botocore got loaded by it."""
    run = run_child(
        [PYTHON, "-c", _TIMED_IMPORT.format(module=module)],
        env={**_LAMBDA_RUNTIME_ENV, **env, "PYTHONPATH": str(path)},
        cwd=path,
    )
    seconds, loaded_botocore = run.stdout.split()
    return float(seconds), loaded_botocore == "True"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run(repeats: int = 7, architecture: str = "arm64") -> Section:
    rows, worst = [], 0.0
    with tempfile.TemporaryDirectory() as scratch:
        baseline = [_timed_import("boto3", Path(scratch), {})[0] for _ in range(repeats)]
        boto3_ms = _median(baseline) * 1000
        rows.append(
            (
                "`import boto3` (baseline)",
                boto3_ms,
                f"{min(baseline) * 1000:.0f}-{max(baseline) * 1000:.0f}",
                1.0,
                "yes",
                "-",
            )
        )
        for entry_point in ENTRY_POINTS:
            archive = function_archive(entry_point, architecture)
            target = Path(scratch) / entry_point
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(target)
            env = function_environment(entry_point)
            module = f"card_transactions.handlers.{entry_point}"
            runs = [_timed_import(module, target, env) for _ in range(repeats)]
            times = [seconds for seconds, _ in runs]
            ratio = _median(times) * 1000 / boto3_ms
            worst = max(worst, ratio)
            rows.append(
                (
                    f"`import {module}`",
                    _median(times) * 1000,
                    f"{min(times) * 1000:.0f}-{max(times) * 1000:.0f}",
                    ratio,
                    "yes" if all(loaded for _, loaded in runs) else "no (deferred to first call)",
                    f"{archive.stat().st_size / 1024:.0f} KiB",
                )
            )
    section = Section(
        title="Cold-start proxy: handler import time",
        header=("import", "median ms", "min-max ms", "ratio to boto3", "botocore loaded", "zip size"),
        rows=rows,
        notes=[
            f"{repeats} fresh interpreters each (Python {sys.version.split()[0]} here; Lambda runs 3.12), "
            "package unzipped first on sys.path, tracer on as in Lambda.",
            f"target <= {TARGET_RATIO}x `import boto3`: {'met' if worst <= TARGET_RATIO else 'NOT met'} "
            f"(worst {worst:.2f}x).",
        ],
    )
    section.headlines["cold start"] = f"handler import <= {worst:.2f}x `import boto3` ({boto3_ms:.0f} ms)"
    return section


if __name__ == "__main__":
    print_section(run(int(sys.argv[1]) if len(sys.argv) > 1 else 7))
