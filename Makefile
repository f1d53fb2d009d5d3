# Every target works on a fresh machine: the virtual environment is created on demand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help test lint run

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/activate: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test: $(BIN)/activate ## lint, then run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/activate ## ruff only
	$(BIN)/ruff check .

run: $(BIN)/activate ## run the app alone under gunicorn on 127.0.0.1:5000 (no Docker)
	GUNICORN_BIND=$${GUNICORN_BIND:-127.0.0.1:5000} $(BIN)/gunicorn -c gunicorn.conf.py app:app
