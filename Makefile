# Two promises: `make demo` runs the dashboard on the built-in sandbox, `make test` runs every test.
# Both create ./.venv themselves on a fresh machine (Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format web sandbox collectors bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.sandbox: requirements.txt requirements-sandbox.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-sandbox.txt
	touch $(VENV)/.runtime $@

$(VENV)/.dev: requirements.txt requirements-sandbox.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $(VENV)/.sandbox $@

demo: $(VENV)/.sandbox
	$(BIN)/python -m dashapp demo

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

web: $(VENV)/.runtime
	$(BIN)/python -m dashapp web --migrate

sandbox: $(VENV)/.sandbox
	$(BIN)/python -m sandbox

bench: $(VENV)/.dev
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf var test-artifacts .pytest_cache .ruff_cache
