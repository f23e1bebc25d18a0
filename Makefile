# License Manager - the two commands a newcomer needs:
#   make dev    set everything up and run the API locally on http://127.0.0.1:3000 (PORT overrides)
#   make test   set everything up and run lint, types, template checks and all tests
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
ENV ?= dev
COVERAGE := --cov --cov-report=term --cov-fail-under=85
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install dev test test-unit test-integration test-e2e soak lint format typecheck template openapi \
	hooks screenshots bench build deploy checkov clean

help:
	@echo "make dev               run the API locally (embedded DynamoDB, dev tokens, dev clock)"
	@echo "make test              lint + types + template + every test, with coverage"
	@echo "make test-unit         the pure rules only (seconds)"
	@echo "make test-integration  handlers and store against moto, in-process"
	@echo "make test-e2e          the dev server over HTTP: the API fuzzer and the console in Chromium included"
	@echo "make screenshots       the console's pages, in English and French, into docs/screenshots/"
	@echo "make soak              the fuzzer and the stateful test with a large budget"
	@echo "make lint              ruff (with the complexity gate) + mypy + cfn-lint"
	@echo "make checkov           checkov on the templates (in its own venv, $(CHECKOV_VENV))"
	@echo "make hooks             install the git pre-commit hooks (ruff, mypy, OpenAPI freshness)"
	@echo "make openapi           regenerate docs/openapi.json from the code"
	@echo "make bench             run the benchmarks and write docs/benchmarks.md"
	@echo "make build             sam build (SAM CLI in its own venv, $(SAM_VENV))"
	@echo "make deploy ENV=prod   sam build + sam deploy --config-env (dev|prod, samconfig.toml), then the console"

# The virtualenv is (re)built whenever the dependency pins change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

dev: $(STAMP)
	$(BIN)/python -m devserver

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint --include-checks I -- template.yaml ops/console-waf.yaml

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

template: $(STAMP)
	$(BIN)/cfn-lint --include-checks I -- template.yaml ops/console-waf.yaml

# unit + integration in-process, with coverage; then the e2e tests (their code runs in the dev
# server's processes, and tracing the fuzzer would only slow it down)
test: lint checkov $(CHROMIUM)
	$(BIN)/python -m pytest -m "not e2e" $(COVERAGE)
	$(BIN)/python -m pytest -m e2e

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -m integration

test-e2e: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -m e2e

screenshots: $(STAMP) $(CHROMIUM)
	SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_console.py

soak: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=300 SCHEMATHESIS_STATEFUL_SCENARIOS=150 STATEFUL_EXAMPLES=80 \
		$(BIN)/python -m pytest tests/e2e/test_api_fuzz.py tests/integration/test_stateful.py

hooks: $(STAMP)
	$(BIN)/pre-commit install

openapi: $(STAMP)
	$(BIN)/python -m tools.openapi

bench: $(STAMP)
	$(BIN)/python -m bench

# The SAM CLI pins its own pydantic; it lives in a separate tool venv so it never fights the app's pins.
$(SAM):
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_VERSION)

# checkov pins its own dependencies too; skips and their reasons: .checkov.yaml and the template's Metadata.
$(CHECKOV):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)
	BC_SKIP_MAPPING=TRUE $(CHECKOV) --config-file .checkov.yaml --skip-download -f template.yaml -f ops/console-waf.yaml

build: $(SAM)
	$(SAM) validate --lint
	$(SAM) build

# samconfig.toml holds the dev and prod environments (docs/operations.md); then the console is
# uploaded with its runtime configuration.
deploy: build $(STAMP)
	$(SAM) deploy --config-env $(ENV)
	$(BIN)/python -m tools.deploy_console --config-env $(ENV)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
