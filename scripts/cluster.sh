#!/usr/bin/env bash
# make cluster [REPLICAS=2] [ACTIONS=2]: on one machine, REPLICAS Rasa servers and ACTIONS action servers behind
# nginx (Debian's package), on PostgreSQL (the conversation store and our tables), Redis (Rasa's lock store,
# socket.io across replicas, rate limits, the messengers' delivery ids) and RabbitMQ (every event, queue
# assistant_events). Customers and agents use http://127.0.0.1:$PORT; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

REPLICAS=${REPLICAS:-2}
ACTIONS=${ACTIONS:-2}
PORT=${PORT:-8080}                       # nginx, for customers and agents
ACTIONS_LB_PORT=${ACTIONS_LB_PORT:-$((PORT + 1))}  # nginx, the Rasa servers' one action endpoint
RASA_BASE=${RASA_BASE:-$((PORT + 100))}  # the replicas listen on RASA_BASE, RASA_BASE+1... (loopback only)
ACTIONS_BASE=${ACTIONS_BASE:-$((PORT + 200))}
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/assistant_cluster}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export RABBITMQ_URL=${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}
export HOST=127.0.0.1
export SANIC_PROXIES_COUNT=1  # behind nginx: the client address (rate limits) is X-Forwarded-For's
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
RUN_DIR=$(pwd)/.run/cluster-$PORT
mkdir -p "$RUN_DIR/logs"

[ -x "$NGINX" ] || { echo "nginx is missing: apt-get install nginx (Debian's package)." >&2; exit 1; }
case "$DATABASE_URL" in postgresql*) ;; *) echo "Replicas share PostgreSQL: set DATABASE_URL=postgresql://..." >&2; exit 1;; esac

# The database: created when missing, migrated, demo data loaded (development).
.venv/bin/python -m scripts.cluster_database
.venv/bin/alembic upgrade head >/dev/null
if [ "${APP_ENV:-}" = "development" ]; then .venv/bin/python -m support.cli demo-data; fi

secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))'; }
export RASA_API_TOKEN=${RASA_API_TOKEN:-$(secret)}
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$(secret)}
export ACTION_SERVER_URL=http://127.0.0.1:$ACTIONS_LB_PORT/webhook
ENDPOINTS=$RUN_DIR/endpoints.yml
.venv/bin/python -m scripts.write_endpoints "$ENDPOINTS"

pids=()
stop() {
  trap - INT TERM EXIT
  touch "$RUN_DIR/stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for file in "$RUN_DIR"/*.pid; do [ -e "$file" ] && kill "$(cat "$file")" 2>/dev/null || true; done
  for _ in $(seq 1 40); do  # the servers stop gracefully within 20 s, or are killed
    running=0
    for file in "$RUN_DIR"/*.pid; do [ -e "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null && running=1 || true; done
    [ "$running" -eq 0 ] && break
    sleep 0.5
  done
  for file in "$RUN_DIR"/*.pid; do [ -e "$file" ] && kill -9 "$(cat "$file")" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
rm -f "$RUN_DIR/stopping" "$RUN_DIR"/*.pid

# A server that stops (a crash, a kill) is started again after a second, as an orchestrator would; its pid is in
# $RUN_DIR/<name>.pid, its log goes on in logs/<name>.log.
supervise() {
  local name=$1 child=""
  shift
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM  # stopped: its server with it
  while true; do
    "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 &
    child=$!
    echo "$child" >"$RUN_DIR/$name.pid"
    local status=0
    wait "$child" || status=$?
    [ -e "$RUN_DIR/stopping" ] && return 0
    echo "$(date '+%F %T') $name stopped (status $status); starting it again" | tee -a "$RUN_DIR/logs/$name.log" >&2
    sleep 1
  done
}

rm -f "$RUN_DIR"/logs/*.log
rasa_servers="" action_servers=""
for i in $(seq 0 $((ACTIONS - 1))); do
  port=$((ACTIONS_BASE + i))
  supervise "actions-$port" .venv/bin/python -m actions.server --port "$port" &
  pids+=($!)
  action_servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done
for i in $(seq 0 $((REPLICAS - 1))); do
  port=$((RASA_BASE + i))
  supervise "rasa-$port" env REFUSE_DB_ON_EVENT_LOOP=1 .venv/bin/rasa run --model "${MODEL:-models/assistant.tar.gz}" \
    --interface 127.0.0.1 --port "$port" --enable-api --auth-token "$RASA_API_TOKEN" --credentials credentials.yml \
    --endpoints "$ENDPOINTS" &
  pids+=($!)
  rasa_servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
done

PREFIX=$RUN_DIR PORT=$PORT ACTIONS_PORT=$ACTIONS_LB_PORT RASA_SERVERS=$rasa_servers ACTION_SERVERS=$action_servers \
  .venv/bin/python -c 'import os, string, sys
names = ("PREFIX", "PORT", "ACTIONS_PORT", "RASA_SERVERS", "ACTION_SERVERS")  # nginx keeps its own $variables
print(string.Template(open(sys.argv[1]).read()).safe_substitute({name: os.environ[name] for name in names}))' \
  deploy/nginx.conf.template >"$RUN_DIR/nginx.conf"
"$NGINX" -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" >"$RUN_DIR/logs/nginx.log" 2>&1 &
pids+=($!)

echo "Starting $REPLICAS Rasa servers and $ACTIONS action servers behind nginx on port $PORT..."
for _ in $(seq 1 300); do
  ready=0
  for i in $(seq 0 $((REPLICAS - 1))); do curl -fs "http://127.0.0.1:$((RASA_BASE + i))/" >/dev/null && ready=$((ready + 1)); done
  [ "$ready" -eq "$REPLICAS" ] && curl -fs "http://127.0.0.1:$PORT/" >/dev/null && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null || grep -qs "starting it again" "$RUN_DIR"/logs/*.log; then
    echo "A server stopped during start-up; see $RUN_DIR/logs/." >&2
    exit 1
  fi
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/" >/dev/null || { echo "The cluster did not start; see $RUN_DIR/logs/." >&2; exit 1; }
cat <<INFO

The cluster is ready: http://127.0.0.1:$PORT/ (chat demo /chat/, agent console /agent/), $REPLICAS Rasa servers
(ports $RASA_BASE-$((RASA_BASE + REPLICAS - 1)), pids in $RUN_DIR/rasa-<port>.pid, started again if they stop),
$ACTIONS action servers behind
http://127.0.0.1:$ACTIONS_LB_PORT. PostgreSQL $DATABASE_URL, Redis $REDIS_URL, RabbitMQ queue assistant_events.
HTTP API token: $RASA_API_TOKEN   Logs: $RUN_DIR/logs/
Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}" || true  # nginx, or a supervisor that was killed: the servers themselves are started again
echo "A part of the cluster stopped for good; shutting down the rest." >&2
