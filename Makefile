# MemberPulse: `make demo` runs the pipeline on the embedded local stack, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := ingest scoring campaigns notifier

.PHONY: help install system-deps up down status clean lint format types imports docs docs-check \
        compose-check promtool-check check test test-unit test-integration test-e2e demo

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: system-deps $(VENV)/.synced ## Install system packages and the locked Python environment

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null || python3 -m pip install --quiet "uv==$(UV_VERSION)"
	uv sync --frozen
	@touch $@

system-deps: ## Debian packages the stack and checks need (installed only when missing)
	@bash deploy/local/system-deps.sh

up: install ## Start Kafka and Postgres on 127.0.0.1, create topics, roles, schemas
	@bash deploy/local/stack.sh up

down: ## Stop the local stack (data is kept; `make clean` removes it)
	@bash deploy/local/stack.sh down

status: ## Report every part of the local stack
	@bash deploy/local/stack.sh status

clean: ## Stop the stack and delete its data
	@bash deploy/local/stack.sh clean

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

types: install ## mypy (strict on shared/ and every domain/)
	$(VENV)/bin/mypy shared services tests tools bench

imports: install ## import-linter contracts: services are independent, domains do no I/O
	$(VENV)/bin/lint-imports

docs: install ## Regenerate docs/asyncapi/ (from the FastStream apps) and docs/schemas/
	$(PY) -m tools.asyncapi_docs
	$(PY) -m shared.contracts.schemas docs/schemas

docs-check: install ## Fail when AsyncAPI or JSON Schema documents drift from the code
	$(PY) -m tools.asyncapi_docs --check
	$(PY) -m shared.contracts.schemas --check docs/schemas

compose-check: install ## Validate docker-compose.yml against the compose-spec schema (no engine needed)
	$(VENV)/bin/check-jsonschema --schemafile deploy/compose/compose-spec.json docker-compose.yml

promtool-check: system-deps ## promtool check config and rules
	promtool check config deploy/prometheus/prometheus.yml
	promtool check config deploy/prometheus/prometheus.local.yml
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.yml

check: lint types imports docs-check compose-check promtool-check ## Every static gate

test-unit: install ## Unit tests (pure, no stack)
	$(PY) -m pytest tests/unit -q

test-integration: install ## Integration tests against the real stack (make up first)
	$(PY) -m pytest tests/integration -q

test-e2e: install ## End-to-end: the four services as processes against the real stack
	$(PY) -m pytest tests/e2e -q

# Everything, from a fresh machine: install, start the stack, gates, all tests, stop the stack.
test: install ## Install, start the stack, run every gate and test, stop the stack
	@bash deploy/local/run-tests.sh

# The demo's size and data: make demo MEMBERS=5000 MONTHS=6 SEED=3, or make demo DATA=cdnow.
MEMBERS ?= 20000
MONTHS ?= 12
SEED ?= 7
DATA ?= synthetic
END ?=
demo: up ## Generate a chain, run it through the four services, print the summary, write out/report.html
	$(PY) -m tools.demo run --members $(MEMBERS) --months $(MONTHS) --seed $(SEED) --data $(DATA) $(if $(END),--end $(END))

.PHONY: chaos
chaos: up ## Chaos suite: ~250,000 records through kills, pauses, broker and database crashes, plus hostile input; ARGS="--seed 3"
	$(PY) -m tools.chaos run $(ARGS)

.PHONY: demo-screenshot
demo-screenshot: $(VENV)/.synced ## Screenshot out/report.html into docs/ with headless Chromium from Debian
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(PY) -m tools.demo_report.screenshot out/report.html docs/demo-report.png

.PHONY: bench-pipeline
bench-pipeline: up ## The four services end to end on a generated chain (as make demo); ARGS="--members 5000"
	$(PY) -m bench.pipeline_throughput $(ARGS)

.PHONY: bench-ingest
bench-ingest: install ## Ingest benchmark on the running stack (make up first); ARGS="--events 20000 --memory-scaling"
	$(PY) -m bench.ingest_throughput $(ARGS)

.PHONY: bench-scoring bench-scoring-fit
bench-scoring: install ## Scoring benchmark on a bench/dev stack (moves group "scoring" to the end); ARGS="--skip sweep"
	$(PY) -m bench.scoring_throughput $(ARGS)

bench-scoring-fit: install ## Scoring's BG/NBD fit on 1,000,000 simulated members (no stack); ARGS="--members 100000"
	$(PY) -m bench.scoring_fit $(ARGS)

.PHONY: bench-campaigns
bench-campaigns: install ## Campaigns benchmark on a bench/dev stack (empties its tables, moves group "campaigns"); ARGS="--profile"
	$(PY) -m bench.campaigns_throughput $(ARGS)

.PHONY: bench-notifier
bench-notifier: install ## Notifier benchmark on a bench/dev stack (provider sink process; empties its tables, moves group "notifier"); ARGS="--profile"
	$(PY) -m bench.notifier_throughput $(ARGS)

.PHONY: bench
bench: up ## Every benchmark in one run: ceilings, each service, pipeline, 1M/10M scale; bench/results/latest.md; ARGS="--quick"
	$(PY) -m bench.harness $(ARGS)
