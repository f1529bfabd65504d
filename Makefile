# Developer commands. `make` (or `make help`) lists them.
# The services run natively (no Docker) under STACK_HOME: `python3 -m stack`, see stack/__init__.py.

PYTHON   ?= python3
VENV     := .venv
API_PORT ?= 8000
DASHBOARD_PORT ?= 8089
LOG_LEVEL ?= info
DEV_KEYS := var/api-keys.json
STACKCTL := $(PYTHON) -m stack
STAMP    := $(VENV)/.requirements.stamp

.DEFAULT_GOAL := help
.PHONY: help venv lock up down clean status run key test lint events browser compose bench chaos soak

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_.-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create .venv from requirements-dev.lock (every dependency pinned, with hashes) + the project, editable

# The locks pin pip and setuptools too: no unpinned upgrade first. pip checks every hash.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

# requirements.txt (runtime) and requirements-dev.txt (tools) are the files people edit;
# the locks are compiled from them: requirements.lock for the image, requirements-dev.lock
# (the same runtime pins plus the tools) for .venv.
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url
lock: venv ## Re-pin every dependency with hashes after editing requirements*.txt (UPGRADE=1: newest allowed versions)
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) $(if $(UPGRADE),--upgrade) --constraint requirements.lock \
		--output-file requirements-dev.lock requirements.txt requirements-dev.txt

up: ## Start Kafka, PostgreSQL, Elasticsearch, Adminer, Prometheus (provisions them on first use; KAFKA_BROKERS=3: three Kafka nodes)
	$(STACKCTL) up

down: ## Stop the services
	$(STACKCTL) down

clean: ## Stop the services and wipe their data and logs (keeps downloads)
	$(STACKCTL) clean

status: ## Show each service's state (and the Kafka bootstrap list)
	$(STACKCTL) status

run: venv up ## Run the Faust worker in the foreground, on jemalloc: API on :8000, dashboard also on :8089, scraped by Prometheus on :9090 (Ctrl-C stops)
	@echo "development API key (send it as X-API-Key): $$($(VENV)/bin/python -m app.api_keys dev)"
	@echo "dashboard: http://localhost:$(DASHBOARD_PORT)/ (and http://localhost:$(API_PORT)/dashboard/)"
	API_KEYS_FILE=$(DEV_KEYS) DASHBOARD_PORT=$(DASHBOARD_PORT) \
		METRICS_TOKEN_FILE=$$($(STACKCTL) metrics-token-file) exec ops/on-jemalloc $(VENV)/bin/faust -A app worker -l $(LOG_LEVEL) --web-port $(API_PORT)

key: venv ## Print the development API key (created with every scope on first use)
	@$(VENV)/bin/python -m app.api_keys dev

ORDER = $(if $(SHUFFLE),--randomly-dont-reset-seed,-p no:randomly)
STACK_DB := $(or $(POSTGRES_DB),streaming_db)
TEST_DB ?= $(STACK_DB)_tests
SUITE_ENV = POSTGRES_DB=$(TEST_DB) STACK_POSTGRES_DB=$(STACK_DB)
test: venv up browser compose lint ## Lint, then run the whole test suite against the running services, on a PostgreSQL database of its own renewed each run (TEST_DB, default streaming_db_tests; SHUFFLE=1: in random order)
	@# The suite's own database: rows a soak or `make run` left cannot collide with a
	@# test's. Two at a time (each test owns its topics, groups and rows); then, alone,
	@# the tests that stop, pause or fill a shared service. The slow fault scenarios
	@# (-m extended) are left to `make chaos`.
	$(VENV)/bin/python -m harness.suite_database $(TEST_DB)
	$(SUITE_ENV) $(VENV)/bin/pytest -n 2 -m "not disruptive" $(ORDER)
	$(SUITE_ENV) $(VENV)/bin/pytest -m "disruptive and not extended" $(ORDER)

lint: venv ## Check style (ruff), types (mypy) and the import rules of docs/architecture.md (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app agents tables web demo harness bench chaos stack
	$(VENV)/bin/lint-imports --no-cache

events: venv ## Regenerate docs/events/ (each event's JSON Schema, AsyncAPI 3) from the event models
	$(VENV)/bin/python -m app.event_schemas

browser: ## Install Debian's chromium for the browser tests (when /usr/bin/chromium is missing)
	@test -x /usr/bin/chromium || command -v apt-get >/dev/null || \
		{ echo "make browser: /usr/bin/chromium is missing and apt-get is unavailable; install Chromium by hand" >&2; exit 1; }
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

compose: ## Install Debian's docker-compose for the compose.yml check (when missing; needs no Docker engine)
	@command -v docker-compose >/dev/null || command -v apt-get >/dev/null || \
		{ echo "make compose: docker-compose is missing and apt-get is unavailable; install docker-compose by hand" >&2; exit 1; }
	@command -v docker-compose >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; }

N ?= 100000
bench: venv up ## Measure the workers and each process's CPU per event on the real services (N= backlog, default 100000; TOPOLOGY=single: one process); writes bench/results.json
	$(VENV)/bin/python -m bench.runner --n $(N)

chaos: venv up ## Inject faults under load and audit every 202 (N= requests per scenario, default 2000; SCENARIOS=1,2,...; scenario 8 starts 3 brokers of its own unless KAFKA_BROKERS=3)
	$(VENV)/bin/python -m chaos.run --n $(if $(filter command line environment,$(origin N)),$(N),2000) $(if $(SCENARIOS),--scenarios $(SCENARIOS))

DURATION ?= 600
RATE ?= 50
POPULATION ?= 30000
soak: venv up ## Steady mixed load for DURATION s (default 600) at RATE req/s (50), a fifth sign-ups until POPULATION people (30000) then a hundredth, retention shortened to act during it, audited as it goes: memory, lag, p99, pruned rows and log indices every 10 s, drawn in docs/soak.png; checks every process's memory levels off, the worker's ceiling, bounded lag and stores, 0 lost/doubled; names what grew in the worker's Python heap (two censuses)
	$(VENV)/bin/python -m chaos.soak --duration $(DURATION) --rate $(RATE) --population $(POPULATION)
