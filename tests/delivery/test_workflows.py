"""The GitHub workflows: schema-valid, clean under zizmor, pinned, least privilege, no template injection."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.delivery.helpers import ROOT, VENV_BIN, WORKFLOWS, load_workflow
from tools.plan_comment import marker
from tools.preflight import BELOW_TERRAFORM, MINIMUM_TERRAFORM

WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
DEPLOY_ENVIRONMENT = WORKFLOWS / "deploy-environment.yml"
WITH_STEPS = [p for p in WORKFLOW_FILES if any("steps" in job for job in load_workflow(p)["jobs"].values())]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def test_the_workflows_exist():
    assert {p.name for p in WORKFLOW_FILES} == {"pull-request.yml", "deploy.yml", "deploy-environment.yml"}


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
    # --offline: only the offline audits, never the GitHub API. .github/zizmor.yml documents every
    # ignored finding with its reason.
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
    # A reusable workflow of this repository runs at the caller's commit: nothing to pin.
    assert [u for u in uses_lines if not PINNED.match(u) and not u.startswith("./.github/workflows/")] == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_nothing_is_granted_by_default(path: Path):
    assert load_workflow(path)["permissions"] == {}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_each_write_permission_sits_only_in_the_job_that_uses_it(path: Path):
    workflow = load_workflow(path)
    for job_id, job in workflow["jobs"].items():
        permissions = job["permissions"]
        writes = {scope for scope, level in permissions.items() if level == "write"}
        if job.get("uses", "").startswith("./"):  # a reusable workflow: exactly what its jobs need
            called = load_workflow(ROOT / job["uses"])["jobs"].values()
            assert writes == {s for j in called for s, level in j["permissions"].items() if level == "write"}
            continue
        uses = " ".join(step.get("uses", "") for step in job.get("steps", []))
        expected = set()
        if "aws-actions/configure-aws-credentials@" in uses:
            expected.add("id-token")
        if "github/codeql-action/upload-sarif@" in uses:
            expected.add("security-events")
        if any("gh api --method" in step.get("run", "") for step in job.get("steps", [])):
            expected.add("pull-requests")
        assert writes == expected, job_id
        assert set(permissions.values()) <= {"read", "write"}


@pytest.mark.parametrize("path", WITH_STEPS, ids=lambda p: p.name)
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
    assert creds["with"]["role-to-assume"] == "${{ env.AWS_PLAN_ROLE_ARN }}"
    assert creds["with"]["aws-region"] == "${{ steps.settings.outputs.region }}"
    runs = [s.get("run", "") for s in plan_job["steps"]]
    assert any("tools/plan_comment.py plan" in r for r in runs)
    assert workflow["jobs"]["comment"]["needs"] == "plan"


def test_the_pull_request_plans_every_environment_from_its_file_and_guards_data():
    plan_job = load_workflow(PULL_REQUEST)["jobs"]["plan"]
    environments = [entry["environment"] for entry in plan_job["strategy"]["matrix"]["include"]]
    assert environments == sorted(p.stem for p in (ROOT / "environments").glob("*.toml"))
    assert plan_job["env"]["DEPLOY_ENVIRONMENT"] == "${{ matrix.environment }}"
    runs = [s.get("run", "") for s in plan_job["steps"]]
    assert 'make synth ENV="$DEPLOY_ENVIRONMENT"' in runs
    preflight = next(i for i, r in enumerate(runs) if "tools.preflight diff transaction-processing" in r)
    render = next(i for i, r in enumerate(runs) if "plan_comment.py render" in r)
    guard = next(i for i, r in enumerate(runs) if "plan_comment.py guard" in r)
    assert preflight < render < guard == len(runs) - 1  # the comment and SARIF are kept, then the guard fails
    assert (
        '--environment "$DEPLOY_ENVIRONMENT"' in runs[render] and "--sarif plan-guard.sarif" in runs[render]
    )
    assert '--environment "$DEPLOY_ENVIRONMENT"' in runs[guard]
    scanning = load_workflow(PULL_REQUEST)["jobs"]["plan-scanning"]
    upload = next(s for s in scanning["steps"] if "upload-sarif@" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "plan-guard.sarif"


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
    comment = load_workflow(PULL_REQUEST)["jobs"]["comment"]
    assert comment["env"]["PLAN_COMMENT_MARKER"] == marker("${{ matrix.environment }}")


def test_deploy_promotes_dev_then_prod_behind_the_production_environment():
    workflow = load_workflow(DEPLOY)
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert list(jobs) == ["dev", "prod"]
    assert jobs["prod"]["needs"] == "dev"
    assert {name: job["with"] for name, job in jobs.items()} == {
        "dev": {"environment": "dev", "github-environment": "dev"},
        "prod": {"environment": "prod", "github-environment": "production"},
    }
    assert all(job["uses"] == "./.github/workflows/deploy-environment.yml" for job in jobs.values())
    (job,) = load_workflow(DEPLOY_ENVIRONMENT)["jobs"].values()
    assert job["environment"] == "${{ inputs.github-environment }}"
    creds = next(s for s in job["steps"] if "configure-aws-credentials@" in s.get("uses", ""))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    runs = [s.get("run", "") for s in job["steps"]]
    assert 'make synth ENV="$DEPLOY_ENVIRONMENT"' in runs
    deploy = runs.index('make deploy ENV="$DEPLOY_ENVIRONMENT" STACK=transaction-processing AUTO_APPROVE=1')
    preflight = next(i for i, r in enumerate(runs) if "tools.preflight deploy transaction-processing" in r)
    guard = next(i for i, r in enumerate(runs) if "plan_comment.py guard" in r)
    assert preflight < guard < deploy == len(runs) - 1  # nothing is applied before the data guard passed
    assert "plan_comment.py plan --outdir cdktf.out --results plan-results" in runs[guard]
    assert '--environment "$DEPLOY_ENVIRONMENT"' in runs[guard]


def test_the_workflows_take_only_roles_from_github_variables():
    # Every setting comes from the environment's committed file: no catalog variable is set by a workflow.
    from card_transactions.settings.model import settings_of
    from card_transactions.stacks.config import Settings

    setting_variables = {spec.env for spec in settings_of(Settings)}
    for path in WORKFLOW_FILES:
        text = path.read_text()
        assert set(re.findall(r"vars\.([A-Z0-9_]+)", text)) <= {
            "AWS_DEPLOY_ROLE_ARN",
            "AWS_PLAN_ROLE_ARN_DEV",
            "AWS_PLAN_ROLE_ARN_PROD",
        }, path.name
        workflow = load_workflow(path)
        blocks = [workflow.get("env", {})]
        for job in workflow["jobs"].values():
            blocks += [job.get("env", {}), *(step.get("env", {}) for step in job.get("steps", []))]
        assert not {name for block in blocks for name in block} & setting_variables, path.name


@pytest.mark.parametrize(
    "path",
    [p for p in WORKFLOW_FILES if "TERRAFORM_VERSION" in load_workflow(p).get("env", {})],
    ids=lambda p: p.name,
)
def test_ci_terraform_satisfies_the_required_version(path: Path):
    version = tuple(int(part) for part in load_workflow(path)["env"]["TERRAFORM_VERSION"].split("."))
    assert MINIMUM_TERRAFORM <= version < BELOW_TERRAFORM
