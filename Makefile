# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1  # Rasa 3.6's own notice about SQLAlchemy 2.0, for its tracker store
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055


TRAINING_INPUTS := config.yml $(shell find domain data components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: setup train db token dunning analytics retention run cluster shell test test-fast lint bench-nlu bench-conversations bench-retry bench-handoff bench-load clean

# A numbered step of the first run (each is skipped when already done).
STEP = @printf '\n\033[1m%s\033[0m\n'


WIDGET_LIB := web/node_modules/socket.io-client/dist/socket.io.min.js

setup: $(VENV)/.installed $(WIDGET_LIB)

# The chat widget's socket.io client, from the npm registry (served by the Rasa server, no CDN).
$(WIDGET_LIB): web/package.json web/package-lock.json
	$(STEP) "2/4 Installing the chat widget's socket.io client from npm (a few seconds)..."
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.installed: requirements.lock scripts/setup_venv.sh pyproject.toml
	$(STEP) "1/4 Creating the Python environment in $(VENV)/ (about 3 minutes the first time)..."
	scripts/setup_venv.sh $(VENV)
	touch $@

# Rasa's own fingerprint cache (.rasa/cache) reuses every unchanged component.
# scripts/train.py: `rasa train` with its progress, and only the expected warnings filtered, one by one.
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS) actions/responses.yml
	$(STEP) "3/4 Training the model (about 2 minutes; unchanged parts come from Rasa's cache)..."
	$(PY) -m scripts.train --fixed-model-name assistant --out models
	touch $@

train: $(MODEL)

# The embedded database (a SQLite file unless DATABASE_URL says otherwise): migrated, demo data loaded.
db: $(VENV)/.installed
	$(STEP) "4/4 Preparing the database (migrations, demo accounts)..."
	$(VENV)/bin/alembic upgrade head
	$(PY) -m support.cli demo-data

# A signed token for a demo user, as the host website would issue it: make token USER=admin@acme.example
token: $(VENV)/.installed
	@export APP_ENV=$${APP_ENV:-development}; case "$(USER)" in *@*) $(PY) -m support.cli token "$(USER)";; \
	  *) echo "usage: make token USER=admin@acme.example" >&2; exit 2;; esac

# Scheduled retries of past_due subscriptions and the downgrade after the grace period (cron: README).
dunning: $(VENV)/.installed
	$(PY) -m support.cli dunning

# The support manager's figures: make analytics [FROM=2026-11-01] [TO=2026-11-30] [CSV=handoff_reasons]
analytics: $(VENV)/.installed
	$(PY) -m support.cli analytics $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(CSV),--csv $(CSV))

# The retention period of product.yml: old conversations deleted, old transcripts and emails anonymised (cron: README).
retention: $(VENV)/.installed
	$(PY) -m support.cli retention

# The embedded default is a development demo (APP_ENV=development, printed): production needs real secrets.
run: $(VENV)/.installed $(WIDGET_LIB) $(MODEL) db
	APP_ENV=$${APP_ENV:-development} scripts/run.sh

# Several replicas behind nginx on PostgreSQL, Redis and RabbitMQ: make cluster [REPLICAS=2] [ACTIONS=2] (README "Replicas").
cluster: $(VENV)/.installed $(WIDGET_LIB) $(MODEL)
	APP_ENV=$${APP_ENV:-development} REPLICAS=$${REPLICAS:-2} ACTIONS=$${ACTIONS:-2} scripts/cluster.sh

shell: $(MODEL) db
	scripts/shell.sh

# Every test: lint first, then all layers (unit, db, actions, model, e2e, browser).
test: lint $(WIDGET_LIB) $(MODEL)
	$(STEP) "Running every test (about 25 minutes)..."
	$(PY) -m pytest tests

# The inner loop: everything that needs no trained model, browser or running server (about a minute).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "unit or db or actions"

# ruff (lint and format), mypy on the core, and the architecture's import rule.
lint: $(VENV)/.installed
	$(STEP) "Checking the code (ruff, mypy, import-linter)..."
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench-nlu: setup
	$(PY) -m bench.nlu_bench

# The independent multi-turn conversations (bench/conversations/) against both servers, per language.
bench-conversations: setup $(MODEL)
	$(PY) -m bench.conversation_bench --failures

bench-retry: setup
	$(PY) -m bench.retry_bench --database sqlite
	$(PY) -m bench.retry_bench --database postgresql

bench-handoff: setup
	$(PY) -m bench.handoff_bench --database sqlite
	$(PY) -m bench.handoff_bench --database postgresql

# Turn latency, throughput, CPU and memory under 1-50 concurrent conversations and an open-loop rate, REST and
# socket.io, against both servers and Rasa's moodbot (bench/out/load.json, load.png; --database postgresql too).
# With REPLICAS="1 2 3": the same client against that many replicas behind nginx (bench/out/replicas.json).
bench-load: setup $(MODEL)
ifdef REPLICAS
	$(PY) -m bench.replica_bench --replicas $(REPLICAS)
else
	$(PY) -m bench.load_bench
endif

clean:
	rm -rf models .rasa .run results bench/out
