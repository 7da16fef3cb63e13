# Two commands matter: `make run` (a working dashboard on http://127.0.0.1:8000) and `make test`.
# Both set up everything they need on a fresh machine and are safe to re-run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install static setup data serve serve-prod clean

run: setup data serve

test: install static
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static: static/dist/.built

static/dist/.built: node_modules/.installed scripts/build_static.sh $(wildcard static/scss/*.scss)
	npm run --silent build
	touch $@

# Database tables and the cache table; then the real organisations, the framework, NHS England's published results
# (DMA 2024/2025, DSPT, legacy IT), the demo accounts, the 2026 demo cycle and the summaries. Every step is idempotent.
setup: install static
	mkdir -p var
	$(MANAGE) migrate --no-input
	$(MANAGE) createcachetable

data:
	$(MANAGE) load_organisations
	$(MANAGE) load_frameworks
	$(MANAGE) load_checks
	$(MANAGE) import_published
	$(MANAGE) create_demo_accounts
	$(MANAGE) load_demo_data
	$(MANAGE) rebuild_summaries

serve:
	$(MANAGE) runserver $(HOST):$(PORT)

# Production-like on one machine: gunicorn, a Celery worker and beat, against DATABASE_URL and REDIS_URL.
serve-prod: setup
	DEBUG=false $(MANAGE) collectstatic --no-input --verbosity 0
	DEBUG=false $(MANAGE) check --deploy
	DEBUG=false bash scripts/serve_prod.sh

clean:
	rm -rf $(VENV) node_modules static/dist var

# Benchmarks against PostgreSQL (DATABASE_URL; without it they say so and skip): a table, and bench/results.json.
# BENCH_SCALE=nhs|10x (default: nhs then 10x)|sector (opt-in); see bench/run.py.
.PHONY: bench
bench: install static
	$(BIN)/python -m bench.run
