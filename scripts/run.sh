#!/usr/bin/env bash
# Starts the action server and the Rasa server, prints how to talk to the bot,
# and stops both on Ctrl-C. Ports and token come from the environment (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://localhost:$ACTIONS_PORT/webhook}
MODEL=${MODEL:-models/assistant.tar.gz}
CREDENTIALS=${CREDENTIALS:-credentials.yml}
RUN_DIR=.run
LOG_DIR=$RUN_DIR/logs
LOCK=$RUN_DIR/run-$RASA_PORT.pid
mkdir -p "$LOG_DIR"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -f "$LOCK" ] && kill -0 "$(cat "$LOCK")" 2>/dev/null; then
  echo "The assistant is already running (make run, pid $(cat "$LOCK")) on port $RASA_PORT." >&2
  echo "Use it as it is, or stop it with Ctrl-C in its terminal (or: kill $(cat "$LOCK"))." >&2
  exit 1
fi
for port in "$RASA_PORT" "$ACTIONS_PORT"; do
  if port_busy "$port"; then
    echo "Port $port is already in use by another program; free it or set RASA_PORT / ACTIONS_PORT." >&2
    exit 1
  fi
done
[ -f "$MODEL" ] || { echo "No trained model at $MODEL: run 'make run' (it trains first)." >&2; exit 1; }

if [ -z "${RASA_API_TOKEN:-}" ]; then
  RASA_API_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')
fi
echo $$ > "$LOCK"
# endpoints.yml with this run's action server and a SQL tracker store on its database.
ENDPOINTS=$RUN_DIR/endpoints-$RASA_PORT.yml
.venv/bin/python -m scripts.write_endpoints "$ENDPOINTS"

# Production unless APP_ENV=development (which `make run` sets): then every secret must be real.
export HOST=${HOST:-127.0.0.1}
if [ "${APP_ENV:-}" = "development" ]; then
  echo "Development mode (APP_ENV=development): the development JWT secret, the demo sign-in and the agent"
  echo "console's development credentials are on. Listening on $HOST only; never expose this mode to a network."
  export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')}
else
  echo "Production mode (APP_ENV=${APP_ENV:-unset}): real secrets required; APP_ENV=development for a demo."
  .venv/bin/python -m support.cli check || exit 1
fi
# CORS only for the origins that embed the widget or ask for link codes (ALLOWED_ORIGINS="https://a,https://b").
cors=()
if [ -n "${ALLOWED_ORIGINS:-}" ]; then
  IFS=',' read -r -a origins <<< "$ALLOWED_ORIGINS"
  cors=(--cors "${origins[@]}")
fi

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$LOCK"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Development: emails go to a local mail catcher (aiosmtpd's Maildir handler), shown on the demo page's mailbox.
if [ "${APP_ENV:-}" = "development" ] && [ -z "${SMTP_URL:-}" ]; then
  MAIL_PORT=${MAIL_PORT:-$((RASA_PORT + 20))}
  export DEV_MAILBOX=${DEV_MAILBOX:-$RUN_DIR/mail-$RASA_PORT}
  export SMTP_URL=smtp://127.0.0.1:$MAIL_PORT
  port_busy "$MAIL_PORT" && { echo "Port $MAIL_PORT (the mail catcher) is in use; set MAIL_PORT." >&2; exit 1; }
  .venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$MAIL_PORT" -c aiosmtpd.handlers.Mailbox "$DEV_MAILBOX" \
    >"$LOG_DIR/mail-$MAIL_PORT.log" 2>&1 &
  pids+=($!)
fi
.venv/bin/python -m actions.server --port "$ACTIONS_PORT" \
  >"$LOG_DIR/actions-$ACTIONS_PORT.log" 2>&1 &
pids+=($!)
# The Rasa server's event loop must never wait on the database (support/db/engine.py refuses it there).
REFUSE_DB_ON_EVENT_LOOP=1 .venv/bin/rasa run --model "$MODEL" --interface "$HOST" --port "$RASA_PORT" \
  --enable-api --auth-token "$RASA_API_TOKEN" "${cors[@]}" --credentials "$CREDENTIALS" --endpoints "$ENDPOINTS" \
  >"$LOG_DIR/rasa-$RASA_PORT.log" 2>&1 &
pids+=($!)

echo "Starting the action server (port $ACTIONS_PORT) and the Rasa server (port $RASA_PORT)..."
for _ in $(seq 1 240); do
  if curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null && curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "A server stopped during start-up; see $LOG_DIR/." >&2; tail -n 20 "$LOG_DIR"/*-"$RASA_PORT".log "$LOG_DIR"/*-"$ACTIONS_PORT".log >&2; exit 1; }
  done
  sleep 1
done
curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null || { echo "The Rasa server did not start; see $LOG_DIR/." >&2; exit 1; }

if [ -n "${DEV_MAILBOX:-}" ]; then
  EMAILS_INFO="the demo page's mailbox (development mail catcher on ${SMTP_URL#smtp://}, Maildir $DEV_MAILBOX)"
elif [ -n "${SMTP_URL:-}" ]; then
  EMAILS_INFO="sent through SMTP_URL"
else
  EMAILS_INFO="kept in the outbox until SMTP_URL is set"
fi
cat <<INFO

The assistant is ready.
  Chat widget demo:   http://localhost:$RASA_PORT/chat/   (pick a demo user in "Sign in as")
  Agent console:      http://localhost:$RASA_PORT/agent/  (AGENT_CREDENTIALS; development: agent / agent-dev-password)
  Analytics:          http://localhost:$RASA_PORT/agent/analytics  (managers: AGENT_MANAGERS; development: manager / manager-dev-password)
  Emails:             $EMAILS_INFO
  Talk to it (REST):  curl -s localhost:$RASA_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
                        -d '{"sender": "me", "message": "Pourquoi mon paiement a échoué ?", "metadata": {"locale": "fr-FR"}}'
  Socket.io:          ws://localhost:$RASA_PORT/socket.io (auth {token, locale}; events user_uttered / bot_uttered)
  In the terminal:    make shell
  Signed in:          add "token": "\$(make token USER=admin@acme.example)" to the metadata
  HTTP API token:     $RASA_API_TOKEN   (e.g. curl localhost:$RASA_PORT/status?token=...)
  Logs:               $LOG_DIR/
Press Ctrl-C to stop both servers.
INFO
wait -n "${pids[@]}" || true
echo "A server stopped; shutting down the other one." >&2
