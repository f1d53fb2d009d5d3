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

run: $(BIN)/activate ## run the app alone under gunicorn on 127.0.0.1:5000 (no Docker, no Kong)
	@$(MAKE) --no-print-directory wordnet || echo "make run: starting without the embedded" \
		"dictionary; only the Free Dictionary API will answer" >&2
	GUNICORN_BIND=$${GUNICORN_BIND:-127.0.0.1:5000} $(BIN)/gunicorn -c gunicorn.conf.py app:app

# --- The Docker stack (docker-compose.yml). Needs Docker with Compose v2, or docker-compose 1.29+.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
.PHONY: up down logs

up: ## start Kong, PostgreSQL and the app (rebuilt), then show the demo API key
	$(COMPOSE) up -d --build
	$(COMPOSE) logs -f provision

down: ## stop the stack, keeping its data (`docker compose down -v` also deletes it)
	$(COMPOSE) down

logs: ## follow the logs of every service (one service: make logs SERVICE=kong)
	$(COMPOSE) logs -f $(SERVICE)

# The embedded WordNet dictionary (issue 3): built once from Debian's wordnet-base.
WORDNET_SOURCE ?= /usr/share/wordnet
WORDNET_DB ?= data/wordnet.sqlite3

.PHONY: wordnet
wordnet: $(WORDNET_DB) ## build the embedded WordNet dictionary if it is missing

$(WORDNET_DB): | $(BIN)/activate
	@test -f $(WORDNET_SOURCE)/data.noun || { \
		echo "make wordnet: $(WORDNET_SOURCE) is missing; install Debian's wordnet-base:" \
			"apt-get install --no-install-recommends wordnet-base" >&2; exit 1; }
	$(BIN)/python scripts/build_wordnet.py --source $(WORDNET_SOURCE) --output $@
