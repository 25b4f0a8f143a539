# One task runner for the README, CI and developers.
#   make run    set up and serve the dashboard on the embedded SQLite database with the shipped data
#   make test   set up and run the whole test suite (SQLite, PostgreSQL and headless Chromium)
#   make lint   ruff and the type checker (mypy, clean on indicators/)
#   make lock   pin every dependency again after a change to pyproject.toml (requirements.lock)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
# Worker processes of `make run`/`make serve` (empty: one per processor; 0: a single waitress process).
WORKERS ?=
PYTEST_ARGS ?=
# Test processes in parallel (pytest-xdist): one per processor, at most 4 (each starts its own PostgreSQL,
# Chromium and app server, and the browsers use the processors fully); PYTEST_WORKERS=0 runs one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))

.PHONY: run test setup system-deps venv init serve lint format lock benchmarks screenshots sample-pack clean

run: setup init serve

test: setup
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

setup: system-deps venv

system-deps:
	@bash tools/install-system-deps.sh

venv: $(BIN)/.installed

# Every install takes the versions pinned in requirements.lock, the ones the tests ran with.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@touch $@

init: venv
	$(BIN)/innovation-monitor init

serve: venv
	$(BIN)/innovation-monitor serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS))

lint: venv
	$(BIN)/ruff check indicators dashboards tests benchmarks tools app.py
	$(BIN)/mypy

lock: venv
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--no-header --quiet -o requirements.lock

format: venv
	$(BIN)/ruff format indicators dashboards tests benchmarks tools app.py

benchmarks: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Screenshots of every page in both languages at 1366x768 and 390x844 (docs/screenshots/).
screenshots: setup init
	$(BIN)/python tools/screenshots.py

# A briefing pack from the shipped data, in both languages (out/).
sample-pack: setup init
	mkdir -p out
	$(BIN)/innovation-monitor brief --lang zh -o out/briefing-pack-zh.zip
	$(BIN)/innovation-monitor brief --lang en -o out/briefing-pack-en.zip
	rm -rf out/briefing-pack-zh out/briefing-pack-en
	$(BIN)/python -m zipfile -e out/briefing-pack-zh.zip out/briefing-pack-zh
	$(BIN)/python -m zipfile -e out/briefing-pack-en.zip out/briefing-pack-en

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
