# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore
export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055


TRAINING_INPUTS := config.yml domain.yml $(shell find data components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: setup train db token dunning run shell test bench-nlu bench-retry bench-handoff clean

WIDGET_LIB := web/node_modules/socket.io-client/dist/socket.io.min.js

setup: $(VENV)/.installed $(WIDGET_LIB)

# The chat widget's socket.io client, from the npm registry (served by the Rasa server, no CDN).
$(WIDGET_LIB): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $@

$(VENV)/.installed: requirements.lock scripts/setup_venv.sh
	scripts/setup_venv.sh $(VENV)
	touch $@

# Rasa's own fingerprint cache (.rasa/cache) reuses every unchanged component.
$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	$(RASA) train --fixed-model-name assistant --out models --quiet
	touch $@

train: $(MODEL)

# The embedded database (a SQLite file unless DATABASE_URL says otherwise): migrated, demo data loaded.
db: $(VENV)/.installed
	$(VENV)/bin/alembic upgrade head
	$(PY) -m support.cli demo-data

# A signed token for a demo user, as the host website would issue it: make token USER=admin@acme.example
token: $(VENV)/.installed
	@case "$(USER)" in *@*) $(PY) -m support.cli token "$(USER)";; \
	  *) echo "usage: make token USER=admin@acme.example" >&2; exit 2;; esac

# Scheduled retries of past_due subscriptions and the downgrade after the grace period (cron: README).
dunning: $(VENV)/.installed
	$(PY) -m support.cli dunning

run: $(MODEL) $(WIDGET_LIB) db
	scripts/run.sh

shell: $(MODEL) db
	scripts/shell.sh

test: $(MODEL) $(WIDGET_LIB)
	$(PY) -m pytest tests

bench-nlu: setup
	$(PY) -m bench.nlu_bench

bench-retry: setup
	$(PY) -m bench.retry_bench --database sqlite
	$(PY) -m bench.retry_bench --database postgresql

bench-handoff: setup
	$(PY) -m bench.handoff_bench --database sqlite
	$(PY) -m bench.handoff_bench --database postgresql

clean:
	rm -rf models .rasa .run results bench/out
