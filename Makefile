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
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export SAM_CLI_TELEMETRY := 0

.PHONY: help install dev test lint format typecheck template openapi bench build deploy clean

help:
	@echo "make dev      run the API locally (embedded DynamoDB, dev tokens, dev clock)"
	@echo "make test     lint + types + template + openapi freshness + unit/integration/e2e tests"
	@echo "make lint     ruff + mypy + cfn-lint only"
	@echo "make openapi  regenerate docs/openapi.json from the code"
	@echo "make bench    run the benchmarks and write docs/benchmarks.md"
	@echo "make build    sam build (SAM CLI in its own venv, $(SAM_VENV))"
	@echo "make deploy   sam deploy --guided"

# The virtualenv is (re)built whenever the dependency pins change.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/python -m devserver

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

template: $(STAMP)
	$(BIN)/cfn-lint template.yaml

test: lint
	$(BIN)/python -m pytest

openapi: $(STAMP)
	$(BIN)/python -m tools.openapi

bench: $(STAMP)
	$(BIN)/python -m bench

# The SAM CLI pins its own pydantic; it lives in a separate tool venv so it never fights the app's pins.
$(SAM):
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --upgrade pip
	$(SAM_VENV)/bin/python -m pip install -q aws-sam-cli==$(SAM_VERSION)

build: $(SAM)
	$(SAM) validate --lint
	$(SAM) build

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
