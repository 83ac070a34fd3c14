# One obvious command per chore. Every target creates the virtualenv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers; tests are isolated (own database schema or SQLite file each).
JOBS   ?= auto

.PHONY: help venv web test test-faults test-unit test-integration test-web lint format bench up up-distributed clean migration

help:
	@echo "make up     run Attune (all-in-one server)"
	@echo "make test   unit + integration tests on SQLite and PostgreSQL"
	@echo "make lint   ruff check, ruff format --check, mypy (attune_core), import-linter"
	@echo "make bench  benchmarks (tests/benchmarks)"
	@echo "make web    build the web UI into web/dist (served by the API at /)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web UI: npm packages from web/package-lock.json, the typed client generated from the
# API's OpenAPI document, then the Vite build into web/dist.
WEB_STAMP   := web/node_modules/.installed
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
               web/tsconfig.json $(wildcard attune_services/api/*.py attune_services/api/routes/*.py)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

web/dist/index.html: $(STAMP) $(WEB_STAMP) $(WEB_SOURCES)
	$(BIN)/python web/scripts/openapi.py
	cd web && npm run --silent gen:api && npm run --silent build

web: web/dist/index.html

test: $(STAMP) web
	$(BIN)/python -m pytest -n $(JOBS) tests/unit tests/integration
	$(MAKE) --no-print-directory test-web

# Vitest units, then Playwright end to end against a real `attune up` in Debian's Chromium.
test-web: web
	web/scripts/ensure-chromium.sh
	cd web && npm run --silent size && npm run --silent test:unit && npm run --silent test:e2e

# Restart the shared RabbitMQ and PostgreSQL under load (a few seconds each): not part of
# `make test`, whose other tests would lose their connections meanwhile.
test-faults: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -s tests/faults

test-unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) tests/integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -m benchmark tests/benchmarks -s -o timeout=3600

up: $(STAMP) web
	$(BIN)/attune up

up-distributed: $(STAMP)
	$(BIN)/attune up --distributed

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache web/node_modules web/dist web/test-output

# Generate a migration from the difference between tables.py and a database at head.
migration: $(STAMP)
	test -n "$(m)" || { echo 'usage: make migration m="what changed"'; exit 2; }
	$(BIN)/python -c 'import sys, anyio; from attune_core.storage.migrate import autogenerate; anyio.run(autogenerate, sys.argv[1])' "$(m)"
