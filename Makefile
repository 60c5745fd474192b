# Njia: `make` alone lists the targets. Everything runs from the project's virtualenv (.venv).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.njia-installed

# Local state (embedded warehouse, archive, Airflow home): NJIA_HOME from the environment, else from .env,
# else ./.njia. Made absolute so Airflow's workers and the CLI agree wherever they start.
NJIA_HOME ?= $(or $(shell sed -n 's/^NJIA_HOME=//p' .env 2>/dev/null | tail -n 1 | tr -d "\"'"),.njia)
NJIA_HOME_ABS := $(abspath $(NJIA_HOME))
AIRFLOW_HOME_DIR := $(NJIA_HOME_ABS)/airflow

.PHONY: help venv install demo portal test test-fast lint airflow bench clean distclean

help: ## list the targets
	@echo "Njia - data platform for Kenyan CSOs fighting human trafficking"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo
	@echo "NJIA_HOME=$(NJIA_HOME_ABS)"

venv: $(STAMP) ## create .venv and install the locked dependencies (re-runs only when the lock changes)
install: $(STAMP) ## same as venv

# uv installs the pinned set in seconds (pip takes minutes resolving); the project itself is editable
# and installed without dependencies, so the lock file alone decides versions. uv trusts the system's
# certificate store, as pip does (needed behind TLS-inspecting proxies).
export UV_SYSTEM_CERTS ?= 1
export UV_NATIVE_TLS ?= 1
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

demo: $(STAMP) ## fictional submissions through the whole pipeline on the embedded warehouse
	NJIA_HOME=$(NJIA_HOME_ABS) $(BIN)/njia demo

# The portal for a laptop: the embedded warehouse under NJIA_HOME, the registry there (or the demo's, after
# `make demo`), and a signing key made once and kept in NJIA_HOME (never in the repository).
PORTAL_REGISTRY = $(or $(NJIA_ORGANISATIONS),$(if $(wildcard $(NJIA_HOME_ABS)/organisations.csv),$(NJIA_HOME_ABS)/organisations.csv,$(NJIA_HOME_ABS)/demo/organisations.csv))
portal: $(STAMP) ## the organisations' portal on http://localhost:8000 (embedded warehouse; says how to add a user)
	@mkdir -p $(NJIA_HOME_ABS)
	@test -s $(NJIA_HOME_ABS)/portal-secret || (umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" > $(NJIA_HOME_ABS)/portal-secret)
	@test -f $(PORTAL_REGISTRY) || { echo "no organisation registry at $(PORTAL_REGISTRY): run 'make demo' first, or set NJIA_ORGANISATIONS"; exit 2; }
	@NJIA_HOME=$(NJIA_HOME_ABS) NJIA_ORGANISATIONS=$(PORTAL_REGISTRY) $(BIN)/njia init >/dev/null
	@echo "Registry: $(PORTAL_REGISTRY). In another terminal, create an account and open the printed link:"
	@echo "  NJIA_HOME=$(NJIA_HOME_ABS) NJIA_ORGANISATIONS=$(PORTAL_REGISTRY) $(BIN)/njia portal add-user $$(sed -n '2s/,.*//p' $(PORTAL_REGISTRY)) you@example.org"
	@echo "Files to try: the demo's, in $(NJIA_HOME_ABS)/demo/inbox/<organisation>/, or a filled 'njia template'."
	NJIA_HOME=$(NJIA_HOME_ABS) NJIA_ORGANISATIONS=$(PORTAL_REGISTRY) \
	NJIA_PORTAL_SECRET=$${NJIA_PORTAL_SECRET:-$$(cat $(NJIA_HOME_ABS)/portal-secret)} \
	$(BIN)/njia portal serve --host 127.0.0.1 --port 8000

test: lint ## lint, then the test suite (real embedded PostgreSQL, dbt, GX and Airflow)
	$(BIN)/pytest -q

test-fast: $(STAMP) ## the inner loop: only the tests that need no PostgreSQL, dbt or Airflow (seconds)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP) ## ruff (rules and formatting) and sqlfluff on the dbt project (.sqlfluff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/

# Airflow for a laptop: scripts/airflow-standalone (what tests/test_airflow_standalone.py starts): `airflow
# standalone`, LocalExecutor with 4 slots, SQLite metadata DB under NJIA_HOME, this folder's DAGs. It prints the
# URL and the file holding the admin password before it blocks; Ctrl-C stops it.
airflow: $(STAMP) ## Airflow standalone on http://127.0.0.1:8080 (AIRFLOW_PORT); prints where the admin password is
	@PATH=$(CURDIR)/$(BIN):$$PATH NJIA_HOME=$(NJIA_HOME_ABS) AIRFLOW_HOME=$(AIRFLOW_HOME_DIR) scripts/airflow-standalone

bench: $(STAMP) ## run the benchmarks (bench/run.py)
	$(BIN)/python bench/run.py

clean: ## remove caches and build output (keeps .venv and NJIA_HOME's data)
	rm -rf .pytest_cache .ruff_cache .hypothesis dbt_project/target dbt_project/logs
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean ## also stop the embedded warehouse and delete ./.njia and .venv
	@if [ -x $(BIN)/python ]; then NJIA_HOME=$(CURDIR)/.njia $(BIN)/python -c \
		"from njia import warehouse; from njia.settings import get_settings; warehouse.stop_embedded(get_settings(warehouse_url=''))" \
		|| true; fi
	rm -rf .njia $(VENV)
