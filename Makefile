# `make run` and `make test` create or update .venv themselves: nothing else to install first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv run test lint format bench drills simulator clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## run: the embedded default (SQLite, simulator, web on 127.0.0.1:8000); Ctrl-C stops it all.
## SIM_ARGS go to the simulator, e.g. make run SIM_ARGS="--generate 5000,200" (a big seed).
## A generated seed's agents are in other workgroups than the demo's ("Dialer Team 001"...): run
## names them in ICWS_AGENT_WORKGROUPS (unless it is set), so the directory sync finds them.
RUN_ADDR ?= 127.0.0.1:8000
SIM_ARGS ?=
SEED_WORKGROUPS = import shlex, sys; from icws_client.simulator.seed import SUPERVISORS_WORKGROUP, generate_seed; \
	a = shlex.split(sys.argv[1]); n, m = map(int, a[a.index("--generate") + 1].split(",")); \
	print(",".join(w["id"] for w in generate_seed(n, m)["workgroups"] if w["id"] != SUPERVISORS_WORKGROUP))
run: venv
	$(if $(findstring --generate,$(SIM_ARGS)),ICWS_AGENT_WORKGROUPS="$${ICWS_AGENT_WORKGROUPS:-$$($(BIN)/python -c '$(SEED_WORKGROUPS)' '$(SIM_ARGS)')}") \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} DASHBOARD_DEMO=$${DASHBOARD_DEMO:-1} $(BIN)/python manage.py run_local --addr $(RUN_ADDR) --sim-args "$(SIM_ARGS)"

## test: lint, the whole suite on SQLite, then the database-facing tests again on PostgreSQL
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export TEST_REDIS_URL
test: venv lint
	$(BIN)/python -m pytest
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest -m postgres_too

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: every benchmark under bench/ (PostgreSQL and Redis as for `make test`), figures in
## bench/RESULTS.md; never fails for being slow. BENCH_ARGS=--quick for a smoke run.
bench: venv
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

## drills: fault drills against real processes (needs PostgreSQL, redis-server, root for the
## PostgreSQL restart); writes bench/DRILLS.md. DRILLS_ARGS=--quick for a short run.
drills: venv
	$(BIN)/python -m pip install --quiet -e '.[dev,drills]'
	$(BIN)/python -m bench.drills.run $(DRILLS_ARGS)

simulator: venv
	$(BIN)/icws-simulator --port 8018

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
