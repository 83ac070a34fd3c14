# One obvious command per chore. Every target creates the virtualenv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers; tests are isolated (own database schema or SQLite file each).
JOBS   ?= auto

.PHONY: help venv test test-unit test-integration lint format bench up up-distributed clean migration

help:
	@echo "make up     run Attune (all-in-one server)"
	@echo "make test   unit + integration tests on SQLite and PostgreSQL"
	@echo "make lint   ruff check, ruff format --check, mypy (attune_core), import-linter"
	@echo "make bench  benchmarks (tests/benchmarks)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) tests/unit tests/integration

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

up: $(STAMP)
	$(BIN)/attune up

up-distributed: $(STAMP)
	$(BIN)/attune up --distributed

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache

# Generate a migration from the difference between tables.py and a database at head.
migration: $(STAMP)
	test -n "$(m)" || { echo 'usage: make migration m="what changed"'; exit 2; }
	$(BIN)/python -c 'import sys, anyio; from attune_core.storage.migrate import autogenerate; anyio.run(autogenerate, sys.argv[1])' "$(m)"
