# Every target works on a fresh machine: the virtual environment is created on demand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help test lint run

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

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

# The embedded WordNet dictionary: built once from Debian's wordnet-base.
WORDNET_SOURCE ?= /usr/share/wordnet
WORDNET_DB ?= data/wordnet.sqlite3

# The code that shapes the file: a change to it (a new schema version) rebuilds the file.
WORDNET_BUILD_CODE := scripts/build_wordnet.py $(wildcard dictionary/backends/wordnet/*.py)

.PHONY: wordnet
wordnet: $(WORDNET_DB) ## build the embedded WordNet dictionary if it is missing or outdated

$(WORDNET_DB): $(WORDNET_BUILD_CODE) | $(BIN)/activate
	@test -f $(WORDNET_SOURCE)/data.noun || { \
		echo "make wordnet: $(WORDNET_SOURCE) is missing; install Debian's wordnet-base:" \
			"apt-get install --no-install-recommends wordnet-base" >&2; exit 1; }
	$(BIN)/python scripts/build_wordnet.py --source $(WORDNET_SOURCE) --output $@

# Provisioning: converge Kong to gateway.yaml through the Admin API.
.PHONY: provision
provision: $(BIN)/activate ## converge Kong (KONG_ADMIN_URL or localhost:8001) to gateway.yaml; ARGS=plan
	$(BIN)/python scripts/provision.py $(ARGS)

# --- Benchmark. wrk and WordNet come from Debian's packages, installed when missing.
.PHONY: bench bench-smoke bench-tools

bench-tools:
	@command -v wrk >/dev/null && test -f /usr/share/wordnet/index.noun || \
	  { [ "$$(id -u)" = 0 ] || { echo "bench: needs wrk and wordnet-base: sudo apt-get install -y --no-install-recommends wrk wordnet-base" >&2; exit 1; }; \
	    apt-get install -y --no-install-recommends wrk wordnet-base || \
	    { apt-get update && apt-get install -y --no-install-recommends wrk wordnet-base; }; }

bench: $(BIN)/activate bench-tools ## measure the app against bare Flask and the original app (about 17 min; bench/results/)
	$(BIN)/python -m bench

bench-smoke: $(BIN)/activate bench-tools ## run every benchmark scenario for a second: the harness works and stops
	$(BIN)/python -m bench --smoke --out bench/results/smoke

# --- End to end through the gateway. `make test` runs tests/e2e against the Kong double;
# e2e-live runs the same suite against the real stack of `docker compose up` (it adds e2e-* test
# consumers to Kong and removes them again when it is done).
.PHONY: e2e e2e-live
KONG_ADMIN_URL ?= http://localhost:8001
KONG_PROXY_URL ?= http://localhost:8000

# --- Generated-input testing against openapi.yaml: `make test` sends about 1,250 requests;
# `make fuzz` 20 times as many (FUZZ_SCALE), from the same seed unless FUZZ_SEED is given.
.PHONY: fuzz
FUZZ_SCALE ?= 20

fuzz: $(BIN)/activate ## deeper generated-input run (about 25,000 requests, 5 min; FUZZ_SEED=n)
	FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest tests/contract/test_fuzz.py -v

e2e: $(BIN)/activate ## run the e2e suite against the Kong double (no Docker needed)
	$(BIN)/python -m pytest tests/e2e -v

e2e-live: $(BIN)/activate ## run the e2e suite against the running compose stack (docker compose up)
	KONG_ADMIN_URL=$(KONG_ADMIN_URL) KONG_PROXY_URL=$(KONG_PROXY_URL) \
		$(BIN)/python -m pytest tests/e2e -v -rs
