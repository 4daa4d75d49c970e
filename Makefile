# Every target installs what it needs first; nothing is assumed on the machine but python3 (3.11+),
# node/npm (20+) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PIPENV_VERSION := 2026.10.3
TOOLS := build/tools
PIPENV := $(TOOLS)/bin/pipenv
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_ENV := tools/checkov/.venv
# The CDK toolkit that synthesizes the app (docs/cdk-toolkits.md, stacks/bindings.py):
# cdktf (default; archived upstream) from .venv, or cdktn (CDK Terrain) from its own locked tools/cdktn/.venv.
CDK_TOOLKIT ?= cdktf
ifeq ($(filter $(CDK_TOOLKIT),cdktf cdktn),)
$(error CDK_TOOLKIT must be cdktf or cdktn, got '$(CDK_TOOLKIT)')
endif
CDKTN_ENV := tools/cdktn/.venv
# MkDocs and its theme, in their own locked environment (tools/docs/Pipfile.lock); docs/contributing.md.
DOCS_ENV := tools/docs/.venv
SYNTH_ENV := $(if $(filter cdktn,$(CDK_TOOLKIT)),$(CDKTN_ENV),$(VENV))
# The environment every synth, diff and deploy acts on: its settings are environments/$(ENV).toml
# (docs/environments.md). Set on the make command line (`make deploy ENV=prod`); a shell's own ENV variable (sh's
# startup file) is ignored. The app reads the name from DEPLOY_ENV.
ifneq ($(origin ENV),command line)
ENV := dev
endif
export DEPLOY_ENV := $(ENV)
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export PATH := $(CURDIR)/$(TOOLS)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Two pytest workers: the suite's tests are xdist-safe (own ports, own scratch directories) and the CI
# machine has 2 cores. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: help install synth hcl check test lint format clean compliance docs

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(PIPENV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)

$(VENV)/.synced: Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	@touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.synced node_modules/.synced ## Install the locked Python and Node dependencies

$(CDKTN_ENV)/.synced: tools/cdktn/Pipfile.lock | $(PIPENV)
	cd tools/cdktn && PIPENV_VENV_IN_PROJECT=1 ../../$(PIPENV) sync
	@touch $@

synth: install $(SYNTH_ENV)/.synced ## Synthesize environment ENV (default dev) into cdktf.out/ (CDK_TOOLKIT=cdktn: with CDK Terrain)
	CDK_TOOLKIT=$(CDK_TOOLKIT) $(SYNTH_ENV)/bin/python main.py
	@echo "Synthesized environment $(ENV) with $(CDK_TOOLKIT): $$(ls $${CDKTF_OUTDIR:-cdktf.out}/stacks | tr '\n' ' ')"

hcl: install $(SYNTH_ENV)/.synced ## Export every stack as valid, terraform-fmt-clean HCL into hcl.out/
	CDK_TOOLKIT=$(CDK_TOOLKIT) $(PY) -m tools.hcl_export --python $(SYNTH_ENV)/bin/python

lint: install ## ruff lint and format check, mypy type check (strict on handlers/domain and settings)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install ## Apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The fast tier: every test that needs no terraform, no local runtime end to end, no checkov and no second
# toolchain (CDK Terrain, HCL), and is not slow (markers: pyproject.toml, set in tests/conftest.py); under a
# minute on 2 cores. `make test` runs them all.
FAST_TIER := not (terraform or e2e or compliance or toolkit or slow)
check: install lint $(DOCS_ENV)/.synced ## Lint, then the fast tier of tests (no terraform, e2e, checkov, CDK Terrain or slow test)
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "$(FAST_TIER)" $(PYTEST_ARGS)

test: install lint $(CHECKOV_ENV)/.synced $(CDKTN_ENV)/.synced $(DOCS_ENV)/.synced ## Lint, then the whole test suite (includes the compliance gate and the strict docs build)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# --- Documentation site: MkDocs (mkdocs.yml, pages in docs/), built strictly: a broken link, a missing
# anchor or a page left out of the nav fails (tests/docs/test_site.py builds it in make test too).
$(DOCS_ENV)/.synced: tools/docs/Pipfile.lock | $(PIPENV)
	cd tools/docs && PIPENV_VENV_IN_PROJECT=1 ../../$(PIPENV) sync
	@touch $@

docs: $(DOCS_ENV)/.synced ## Build the documentation site into site/ (strict: broken links and unlisted pages fail)
	NO_MKDOCS_2_WARNING=1 $(DOCS_ENV)/bin/mkdocs build --strict --site-dir site

# --- Compliance: checkov 3.3.30 in its own pinned environment (it pins an old boto3), see docs/compliance.md.
$(CHECKOV_ENV)/.synced: tools/checkov/Pipfile.lock | $(PIPENV)
	cd tools/checkov && PIPENV_VENV_IN_PROJECT=1 ../../$(PIPENV) sync
	@touch $@

compliance: synth $(CHECKOV_ENV)/.synced ## checkov gate on every stack: 0 failed, 0 parse errors (reports/checkov.sarif)
	$(PY) -m compliance.gate --reports reports

# --- Delivery: the cdktf CLI pinned in package-lock.json drives terraform; tools/preflight.py checks
# terraform (>= 1.10 for the S3 lockfile) and AWS credentials first. See docs/deploy.md.
STACK ?= transaction-processing
AUTO_APPROVE ?=
CDKTF_APPROVE := $(if $(AUTO_APPROVE),--auto-approve,)
export CHECKPOINT_DISABLE := 1
.PHONY: diff deploy bootstrap migrate destroy

bootstrap: install ## Create the state bucket + lock table (stack state-backend; once per account/env)
	$(PY) -m tools.preflight bootstrap state-backend
	cdktf deploy state-backend $(CDKTF_APPROVE)

migrate: install ## Copy an existing state of STACK into the state bucket (once, only if it lives elsewhere)
	$(PY) -m tools.preflight migrate $(STACK)
	$(PY) main.py
	terraform -chdir=cdktf.out/stacks/$(STACK) init -migrate-state

diff: install ## Show what deploy would change in STACK (default transaction-processing)
	$(PY) -m tools.preflight diff $(STACK)
	cdktf diff $(STACK)

deploy: install ## Deploy STACK (default transaction-processing; AUTO_APPROVE=1 skips the prompt)
	$(PY) -m tools.preflight deploy $(STACK)
	cdktf deploy $(STACK) $(CDKTF_APPROVE)
	@# Keys already in the clients' usage plans join the key table (idempotent; docs/clients.md).
	if [ "$(STACK)" = "transaction-processing" ]; then $(PY) -m tools.clients adopt; fi

destroy: install ## Destroy STACK (default transaction-processing; state-backend last)
	$(PY) -m tools.preflight destroy $(STACK)
	cdktf destroy $(STACK) $(CDKTF_APPROVE)

# --- Real terraform offline: validate, fmt, plan, apply + re-plan against moto, provider from the machine's
# mirror (tools/terraform_check; docs/terraform-check.md). Skips with a reason without them.
.PHONY: tf-check
tf-check: synth ## Real terraform on every stack, offline: validate, plan, apply and re-plan against moto
	$(PY) -m tools.terraform_check --outdir cdktf.out --workdir build/terraform-check

# --- Releases: the upgrade check plans the current code against the last release (releases/README.md).
.PHONY: wheel
wheel: install ## Build the package's wheel into dist/ (docs/library.md)
	$(PY) -m tools.wheel --wheel-dir dist

.PHONY: release-snapshot
release-snapshot: install ## Rewrite releases/last/ from this commit (environments/dev.toml), when cutting a release
	$(PY) -m tools.release_snapshot --environment dev

# --- Local runtime: moto + the real handlers, no AWS account, no Docker. See docs/local.md.
.PHONY: local
local: install ## Run the whole system on this machine (API :8080, AWS :5000; Ctrl-C stops)
	$(PY) -m local

# --- Recovery: re-enqueue every pending transaction now (docs/runbooks.md). REPLAY_ARGS, e.g.
# "--older-than 0 --dry-run" or "--endpoint-url http://127.0.0.1:5000" for make local.
REPLAY_ARGS ?=
.PHONY: replay
replay: install ## Re-enqueue pending transactions now (the reconciler's pass; REPLAY_ARGS="--dry-run" ...)
	$(PY) -m tools.replay $(REPLAY_ARGS)

# --- API clients: keys (created through API Gateway's API, never in Terraform), rotation, merchant
# bindings (docs/clients.md). CLIENTS_ARGS, e.g. "add acme", "rotate acme",
# "finish-rotation acme", "revoke acme", "bind acme merchant_001", "unbind acme merchant_001", "adopt".
CLIENTS_ARGS ?= list
.PHONY: clients clients-local
clients: install ## API clients on AWS: CLIENTS_ARGS="list" | "add acme" | "rotate acme" | "bind acme m_1" ...
	$(PY) -m tools.clients $(CLIENTS_ARGS)

clients-local: install ## The same against make local (its AWS endpoint, LOCAL_AWS_PORT or 5000)
	$(PY) -m tools.clients --endpoint-url http://127.0.0.1:$${LOCAL_AWS_PORT:-5000} $(CLIENTS_ARGS)

# --- Benchmarks: tables with ratios against same-run baselines; never asserted in tests.
.PHONY: bench
bench: synth $(CDKTN_ENV)/.synced ## Run every benchmark (about 6 minutes on 2 cores) and write bench/results.md
	$(PY) -m bench

clean: ## Remove synthesized output and build artefacts (keeps the environments)
	rm -rf cdktf.out hcl.out build/lambda build/terraform-check build/library-env reports site dist
