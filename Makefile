# The front door: `make run` and `make test` are the two commands a newcomer needs.
VENV     ?= .venv
PYTHON   ?= python3
PY       := $(VENV)/bin/python
IMVO     := $(VENV)/bin/imvo
STAMP    := $(VENV)/.installed-stamp
PEER     := $(VENV)/.peer-installed-stamp
HOST     ?= 127.0.0.1
PORT     ?= 8000

export IMVO_DATABASE_URL ?= sqlite:///var/imvo.db
export IMVO_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Test workers (pytest-xdist; a test file stays on one worker): much of the suite waits on
# subprocesses, browsers and servers, so two workers on two cores nearly halve its time.
TEST_WORKERS ?= 2

.PHONY: install run test lint format bench migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run: migrate the embedded database, load the 2016 report, start web + scheduler
run: install
	$(IMVO) db upgrade
	$(IMVO) seed
	$(IMVO) status
	$(IMVO) serve --host $(HOST) --port $(PORT)

## test: every test, each database test on SQLite and on PostgreSQL
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25 --cov --cov-report=term:skip-covered

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

$(PEER): $(STAMP) bench/requirements-peer.txt
	$(PY) -m pip install --quiet -r bench/requirements-peer.txt
	touch $(PEER)

## bench: every bench script, one table, bench/results/latest.md (BENCH_ARGS=--skip-postgres ...)
bench: install $(PEER)
	$(PY) bench/run_all.py $(BENCH_ARGS)

## migration name=...: autogenerate a new Alembic revision from the models
migration: install
	@test -n "$(name)" || (echo 'usage: make migration name="what changes"'; exit 2)
	$(VENV)/bin/alembic revision --autogenerate -m "$(name)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
