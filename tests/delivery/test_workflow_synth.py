"""What a workflow job synthesizes equals `make synth ENV=<name>` on the same commit, byte for byte.

Every step of the workflows that runs `make synth` is run here as the runner would run it (bash -eo
pipefail, the workflow's, job's and step's `env:` with their expressions resolved: the matrix entry or
the caller's inputs, a role ARN for each GitHub variable) on a clean environment, and its output is
compared file by file with `make synth ENV=<name>` run the way a person runs it. Both write to their own
directory (``CDKTF_OUTDIR``); the Lambda packages come from the shared build cache.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.delivery.helpers import ROOT, WORKFLOWS, load_workflow

pytestmark = pytest.mark.slow
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ROLE = "arn:aws:iam::111122223333:role/ci"  # what a GitHub variable holds: only roles are read
CLEAN = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}


def resolve(value: Any, context: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("vars."):
            return ROLE
        if expression not in context:
            raise AssertionError(f"unresolved expression {expression!r}: add it to this test's context")
        return context[expression]

    return EXPRESSION.sub(one, str(value))


def synth_steps() -> list[tuple[str, str, dict[str, str], str]]:
    """(id, environment, env, script) of every step that runs `make synth`, per matrix entry or caller."""
    found = []
    pull_request = load_workflow(WORKFLOWS / "pull-request.yml")
    for job_id, job in pull_request["jobs"].items():
        entries = job.get("strategy", {}).get("matrix", {}).get("include", [{}])
        for entry in entries:
            context = {f"matrix.{key}": resolve(value, {}) for key, value in entry.items()}
            found += _steps(f"pull-request/{job_id}", pull_request, job, context)
    callee = load_workflow(WORKFLOWS / "deploy-environment.yml")
    for job_id, caller in load_workflow(WORKFLOWS / "deploy.yml")["jobs"].items():
        context = {f"inputs.{key}": value for key, value in caller["with"].items()}
        for job in callee["jobs"].values():
            found += _steps(f"deploy/{job_id}", callee, job, context)
    return found


def _steps(
    name: str, workflow: dict[str, Any], job: dict[str, Any], context: dict[str, str]
) -> list[tuple[str, str, dict[str, str], str]]:
    found = []
    for step in job.get("steps", []):
        script = step.get("run", "")
        if "make synth" not in script:
            continue
        env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        resolved = {key: resolve(value, context) for key, value in env.items()}
        environment = context.get("matrix.environment") or context.get("inputs.environment") or "dev"
        found.append((f"{name}[{environment}]", environment, resolved, script))
    return found


STEPS = synth_steps()


def files(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def run(script: str, env: dict[str, str], outdir: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**CLEAN, **env, "CDKTF_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def local_synth(tmp_path_factory: pytest.TempPathFactory):
    """`make synth ENV=<name>` as a person runs it, once per environment."""
    made: dict[str, tuple[dict[str, bytes], str]] = {}

    def synth(environment: str) -> tuple[dict[str, bytes], str]:
        if environment not in made:
            outdir = tmp_path_factory.mktemp(f"local-{environment}")
            done = run(f"make synth ENV={environment}", {}, outdir)
            made[environment] = (files(outdir), done.stdout)
        return made[environment]

    return synth


def test_every_environment_is_synthesized_by_a_workflow():
    assert {environment for _, environment, _, _ in STEPS} == {
        p.stem for p in (ROOT / "environments").glob("*.toml")
    }


@pytest.mark.parametrize(("name", "environment", "env", "script"), STEPS, ids=[s[0] for s in STEPS])
def test_a_workflow_synthesizes_exactly_what_make_synth_does(
    name: str, environment: str, env: dict[str, str], script: str, local_synth, tmp_path: Path
):
    expected, printed = local_synth(environment)
    done = run(script, env, tmp_path / "workflow")
    actual = files(tmp_path / "workflow")
    assert sorted(actual) == sorted(expected)
    assert [path for path in expected if actual[path] != expected[path]] == []
    assert any(path.endswith("cdk.tf.json") for path in actual)
    # Both say where the settings came from: the environment's file.
    assert f"settings of environment {environment} (environments/{environment}.toml)" in done.stdout
    assert f"settings of environment {environment} (environments/{environment}.toml)" in printed


def test_a_prod_synth_names_where_each_setting_came_from(local_synth):
    _, printed = local_synth("prod")
    assert 'api_clients = ["acme-payments:200:400:2000000"' in printed
    assert "(environments/prod.toml)" in printed
