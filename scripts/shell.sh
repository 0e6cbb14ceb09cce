#!/usr/bin/env bash
# Talk to the assistant in the terminal. Starts the action server if none is running.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONS_PORT=${ACTIONS_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://localhost:$ACTIONS_PORT/webhook}
mkdir -p .run/logs
export APP_ENV=${APP_ENV:-development}
# The action server answers only calls carrying this token (endpoints.yml makes rasa shell send it).
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')}
if ! curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null; then
  .venv/bin/python -m actions.server --port "$ACTIONS_PORT" >".run/logs/actions-$ACTIONS_PORT.log" 2>&1 &
  actions_pid=$!
  trap 'kill $actions_pid 2>/dev/null || true' EXIT
  until curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null; do sleep 1; done
fi
.venv/bin/python -m scripts.write_endpoints .run/endpoints-shell.yml
# Its own port, so that it also works while `make run` holds 5005.
.venv/bin/rasa shell --model models/assistant.tar.gz --endpoints .run/endpoints-shell.yml --port "${SHELL_PORT:-5006}"
