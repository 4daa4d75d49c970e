"""The GitHub workflows: schema-valid, clean under zizmor, pinned, least privilege, no template injection."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.delivery.helpers import ROOT, VENV_BIN, WORKFLOWS, load_workflow
from tools.plan_comment import MARKER
from tools.preflight import BELOW_TERRAFORM, MINIMUM_TERRAFORM

WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def test_both_workflows_exist():
    assert {p.name for p in WORKFLOW_FILES} == {"pull-request.yml", "deploy.yml"}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_matches_the_github_workflow_schema(path: Path):
    # The schema ships inside check-jsonschema: no network.
    done = subprocess.run(
        [VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing():
    # --offline: only the offline audits, never the GitHub API. zizmor.yml (if any) documents every
    # ignored finding with its reason; today there is none.
    done = subprocess.run(
        [
            VENV_BIN / "zizmor",
            "--offline",
            "--persona",
            "pedantic",
            "--no-progress",
            "--color",
            "never",
            WORKFLOWS,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_a_version_comment(path: Path):
    uses_lines = [
        line.split("uses:", 1)[1].strip() for line in path.read_text().splitlines() if "uses:" in line
    ]
    assert uses_lines
    assert [u for u in uses_lines if not PINNED.match(u)] == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_nothing_is_granted_by_default(path: Path):
    assert load_workflow(path)["permissions"] == {}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_each_write_permission_sits_only_in_the_job_that_uses_it(path: Path):
    workflow = load_workflow(path)
    for job_id, job in workflow["jobs"].items():
        permissions = job["permissions"]
        uses = " ".join(step.get("uses", "") for step in job.get("steps", []))
        writes = {scope for scope, level in permissions.items() if level == "write"}
        expected = set()
        if "aws-actions/configure-aws-credentials@" in uses:
            expected.add("id-token")
        if "github/codeql-action/upload-sarif@" in uses:
            expected.add("security-events")
        if any("gh api --method" in step.get("run", "") for step in job.get("steps", [])):
            expected.add("pull-requests")
        assert writes == expected, job_id
        assert set(permissions.values()) <= {"read", "write"}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path: Path):
    checkouts = [
        step for _, _, step in _steps(load_workflow(path)) if "actions/checkout@" in step.get("uses", "")
    ]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_run_script(path: Path):
    # Untrusted values reach scripts through `env:` only, never through `${{ }}` in `run:`.
    offenders = [job_id for job_id, _, step in _steps(load_workflow(path)) if "${{" in step.get("run", "")]
    assert offenders == []


def test_pull_request_workflow_installs_synthesizes_gates_tests_and_plans():
    workflow = load_workflow(PULL_REQUEST)
    assert list(workflow["on"]) == ["pull_request"]
    gate = [step.get("run", "") for step in workflow["jobs"]["gate"]["steps"]]
    assert [r for r in gate if r.startswith("make ")] == ["make synth", "make compliance", "make test"]
    sarif = next(s for _, _, s in _steps(workflow) if "upload-sarif@" in s.get("uses", ""))
    assert sarif["with"]["sarif_file"] == "reports/checkov.sarif"
    plan_job = workflow["jobs"]["plan"]
    creds = next(s for s in plan_job["steps"] if "configure-aws-credentials@" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert creds["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    assert any("tools/plan_comment.py plan" in s.get("run", "") for s in plan_job["steps"])
    assert workflow["jobs"]["comment"]["needs"] == "plan"


def test_every_pull_request_validates_every_stack_with_the_pinned_provider():
    # In the gate job, which runs for fork pull requests too (no `if`, no credentials), after synth.
    gate = load_workflow(PULL_REQUEST)["jobs"]["gate"]
    assert "if" not in gate
    assert "id-token" not in gate["permissions"]
    steps = gate["steps"]
    runs = [step.get("run", "") for step in steps]
    validate = next(i for i, run in enumerate(runs) if "validate" in run and "terraform" in run)
    assert validate > runs.index("make synth")
    script = runs[validate]
    assert "for stack in cdktf.out/stacks/*/; do" in script
    assert 'terraform -chdir="$stack" init -backend=false -input=false' in script
    assert 'terraform -chdir="$stack" validate' in script
    assert "-upgrade" not in script and "plugin-dir" not in script  # the pinned version, from the registry
    setup = next(s for s in steps if "hashicorp/setup-terraform@" in s.get("uses", ""))
    assert steps.index(setup) < validate


def test_the_comment_is_found_by_the_marker_the_script_writes():
    assert load_workflow(PULL_REQUEST)["env"]["PLAN_COMMENT_MARKER"] == MARKER


def test_deploy_applies_on_main_behind_a_protected_environment():
    workflow = load_workflow(DEPLOY)
    assert workflow["on"]["push"]["branches"] == ["main"]
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "production"
    creds = next(s for s in job["steps"] if "configure-aws-credentials@" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "make deploy STACK=transaction-processing AUTO_APPROVE=1" in [s.get("run") for s in job["steps"]]
    assert workflow["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_ci_terraform_satisfies_the_required_version(path: Path):
    version = tuple(int(part) for part in load_workflow(path)["env"]["TERRAFORM_VERSION"].split("."))
    assert MINIMUM_TERRAFORM <= version < BELOW_TERRAFORM
