# Every target works on a fresh machine: the virtual environment is created on demand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help test test-packages lint run

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/activate: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# --- Debian packages. scripts/debian-packages.sh prints the apt-get commands for the missing
# ones (as root, or through password-less sudo) and the recipe runs them; when it cannot
# install, make stops at once with its one line naming the command to run as root.
# `make -n` shows the commands without running them.
DEBIAN_PACKAGES = WORDNET_SOURCE=$(WORDNET_SOURCE) $(SHELL) scripts/debian-packages.sh
# $(call debian_packages,PACKAGES): a recipe line installing what is missing, or a stop.
debian_packages = $(call _install_or_stop,$(shell $(DEBIAN_PACKAGES) "make $(GOALS)" $(1)))
GOALS = $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
_install_or_stop = $(if $(filter STOP,$(firstword $(1))),$(error $(wordlist 2,1000,$(1))),$(1))

# What the tests need besides Python. wordnet-base: the embedded dictionary's data;
# docker-compose: validates docker-compose.yml offline; wrk: the benchmark's load generator,
# whose smoke run is a test; redis-server: the plans' counters (the Kong double counts in a real
# Redis, as Kong does); socat: the Admin API forwarder of the compose stack, run by its tests.
TEST_PACKAGES := wordnet-base docker-compose wrk redis-server socat

test-packages: ## install the Debian packages the tests need, when missing (root or sudo -n)
	$(call debian_packages,$(TEST_PACKAGES))

test: test-packages $(BIN)/activate wordnet ## install what the tests need, lint, run them all
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/activate ## ruff only
	$(BIN)/ruff check .

# The embedded dictionary serves too, unless DICTIONARY_BACKEND=upstream leaves it out.
RUN_NEEDS := $(if $(filter upstream,$(DICTIONARY_BACKEND)),,wordnet)
run: $(RUN_NEEDS) $(BIN)/activate ## run the app alone under gunicorn on 127.0.0.1:5000 (no Docker, no Kong)
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

# The embedded WordNet dictionary: built once from Debian's wordnet-base (installed when missing).
WORDNET_SOURCE ?= /usr/share/wordnet
WORDNET_DB ?= data/wordnet.sqlite3

# The code that shapes the file: a change to it (a new schema version) rebuilds the file.
WORDNET_BUILD_CODE := scripts/build_wordnet.py $(wildcard dictionary/backends/wordnet/*.py)

.PHONY: wordnet
wordnet: $(WORDNET_DB) ## build the embedded WordNet dictionary if it is missing or outdated

$(WORDNET_DB): $(WORDNET_BUILD_CODE) | $(WORDNET_SOURCE)/data.noun $(BIN)/activate
	$(BIN)/python scripts/build_wordnet.py --source $(WORDNET_SOURCE) --output $@

$(WORDNET_SOURCE)/data.noun:
	$(call debian_packages,wordnet-base)

# Provisioning: converge Kong to gateway.yaml through the Admin API.
.PHONY: provision
provision: $(BIN)/activate ## converge Kong (KONG_ADMIN_URL or localhost:8001) to gateway.yaml; ARGS=plan
	$(BIN)/python scripts/provision.py $(ARGS)

# --- Benchmark. wrk and WordNet come from Debian's packages, installed when missing.
.PHONY: bench bench-smoke bench-tools

bench-tools:
	$(call debian_packages,wordnet-base wrk)

bench: $(BIN)/activate bench-tools ## measure the app against bare Flask and the original app (about 17 min; bench/results/)
	$(BIN)/python -m bench

bench-smoke: $(BIN)/activate bench-tools ## run every benchmark scenario for a second: the harness works and stops
	$(BIN)/python -m bench --smoke --out bench/results/smoke

# --- End to end through the gateway. `make test` runs tests/e2e against the Kong double;
# e2e-live runs the same suite against the real stack of `docker compose up` (it adds e2e-* test
# consumers to Kong and removes them again when it is done). KONG_PROXY_URL_2 names a second
# node's proxy (`docker compose --profile cluster up`: http://localhost:8100).
.PHONY: e2e e2e-loop e2e-live
KONG_ADMIN_URL ?= http://localhost:8001
KONG_PROXY_URL ?= http://localhost:8000
KONG_PROXY_URL_2 ?=
E2E_RUNS ?= 20

# --- Generated-input testing against openapi.yaml: `make test` sends about 1,250 requests;
# `make fuzz` 20 times as many (FUZZ_SCALE), from the same seed unless FUZZ_SEED is given.
.PHONY: fuzz
FUZZ_SCALE ?= 20

fuzz: test-packages $(BIN)/activate wordnet ## deeper generated-input run (about 25,000 requests, 5 min; FUZZ_SEED=n)
	FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest tests/contract/test_fuzz.py -v

e2e: test-packages $(BIN)/activate ## run the e2e suite against the Kong double (no Docker needed)
	$(BIN)/python -m pytest tests/e2e -v

e2e-loop: test-packages $(BIN)/activate ## the e2e suite E2E_RUNS times in a row (20) against the double; stops at the first red run
	@for run in $$(seq $(E2E_RUNS)); do \
		$(BIN)/python -m pytest tests/e2e -q -p no:cacheprovider || \
			{ echo "e2e-loop: run $$run of $(E2E_RUNS) failed" >&2; exit 1; }; \
		echo "e2e-loop: run $$run of $(E2E_RUNS) passed"; \
	done

e2e-live: $(BIN)/activate ## run the e2e suite against the running compose stack (docker compose up)
	KONG_ADMIN_URL=$(KONG_ADMIN_URL) KONG_PROXY_URL=$(KONG_PROXY_URL) \
		KONG_PROXY_URL_2=$(KONG_PROXY_URL_2) $(BIN)/python -m pytest tests/e2e -v -rs
