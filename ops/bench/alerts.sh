#!/usr/bin/env bash
# Alert lag benchmark (`make bench-alerts`): builds llmlab-server, llmlab-admin and
# llmlab-bench-proxy (for its fake OpenAI upstream), starts a throw-away server (fresh
# LLMLAB_HOME) pointed at the fake upstream, creates a tenant, project, provider key and
# proxy API key, then ops/bench/alerts_lag.py measures the time from the proxy response
# whose usage crosses a budget threshold to the webhook receiving the alert (median and max
# over several crossings). Always stops everything and removes the home. Measured, not
# asserted.
#
#   ops/bench/alerts.sh                     # release build, 8 crossings
#   ops/bench/alerts.sh --crossings 5       # extra arguments go to alerts_lag.py
#   CONFIG=debug ops/bench/alerts.sh        # debug build (label the figures as debug!)
#
# Environment:
#   CONFIG              release (default) or debug
#   BENCH_SCRATCH_PATH  SwiftPM scratch directory (default: SwiftPM's .build). A separate one
#                       (e.g. .build-bench) keeps a long release build from holding the
#                       .build lock while others build there.
#   BENCH_HEALTH_WAIT   seconds to wait for the server to report SERVING (default 180)
#   BENCH_LOG_LEVEL     llmlab-server --log-level (default notice: nothing per request)
#   BENCH_SKIP_BUILD    1: use the binaries already built for CONFIG (no swift build)
#
# Results: figures on stdout and ops/bench/results/alerts-<timestamp>.json (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

source "$ROOT/ops/bench/lib.sh"
HEALTH_WAIT="${BENCH_HEALTH_WAIT:-180}"
LOG_LEVEL="${BENCH_LOG_LEVEL:-notice}"
command -v python3 >/dev/null || { echo "python3 is needed (free ports, JSON from llmlab-admin)" >&2; exit 1; }
bench_build llmlab-server llmlab-admin llmlab-bench-proxy

# A fresh home: 0711 so the embedded cluster's unprivileged user (the server runs it as
# `postgres` when we are root) can traverse it and nothing gets relocated outside it.
BENCH_HOME="$(mktemp -d "${TMPDIR:-/tmp}/llmlab-bench-alerts.XXXXXX")"
chmod 711 "$BENCH_HOME"
SERVER_LOG="$BENCH_HOME/server.log"
UPSTREAM_LOG="$BENCH_HOME/upstream.log"
SERVER_PID=""
UPSTREAM_PID=""
BENCH_PID=""

stop_all() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "==> stopping llmlab-server (pid $SERVER_PID)"
    bench_stop_pid "$SERVER_PID" llmlab-server
  fi
  if [ -n "$UPSTREAM_PID" ] && kill -0 "$UPSTREAM_PID" 2>/dev/null; then
    kill -TERM "$UPSTREAM_PID" 2>/dev/null || true
    wait "$UPSTREAM_PID" 2>/dev/null || true
  fi
  bench_stop_embedded_pg "$BENCH_HOME"
  if [ "$status" -ne 0 ]; then
    bench_show_logs "$SERVER_LOG" "$UPSTREAM_LOG"
  fi
  rm -rf -- "$BENCH_HOME"
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback port: bind port 0 and read what the kernel chose.
free_port() { bench_free_port; }
GRPC_ADDRESS="127.0.0.1:$(free_port)"
HTTP_ADDRESS="127.0.0.1:$(free_port)"

# The fake upstream binds port 0 itself and reports the port through a file: no race.
echo "==> starting the fake upstream"
"$BIN/llmlab-bench-proxy" fake-upstream --port 0 --port-file "$BENCH_HOME/upstream.port" >"$UPSTREAM_LOG" 2>&1 &
UPSTREAM_PID=$!
for _ in $(seq 1 100); do
  [ -s "$BENCH_HOME/upstream.port" ] && break
  kill -0 "$UPSTREAM_PID" 2>/dev/null || { echo "the fake upstream exited before it listened" >&2; exit 1; }
  sleep 0.1
done
[ -s "$BENCH_HOME/upstream.port" ] || { echo "the fake upstream did not report its port within 10 s" >&2; exit 1; }
UPSTREAM_ADDRESS="127.0.0.1:$(cat "$BENCH_HOME/upstream.port")"
echo "    fake upstream on http://$UPSTREAM_ADDRESS (pid $UPSTREAM_PID)"

echo "==> starting llmlab-server: gRPC $GRPC_ADDRESS, HTTP $HTTP_ADDRESS, upstream http://$UPSTREAM_ADDRESS/v1 (home $BENCH_HOME)"
LLMLAB_HOME="$BENCH_HOME" "$BIN/llmlab-server" serve --home "$BENCH_HOME" --grpc-address "$GRPC_ADDRESS" \
  --http-address "$HTTP_ADDRESS" --openai-base-url "http://$UPSTREAM_ADDRESS/v1" --log-level "$LOG_LEVEL" \
  >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

# llmlab-admin finds the CA and the operator token in LLMLAB_HOME; HOME keeps its
# credentials file (the tenant owner's session) inside the temporary home too.
export LLMLAB_HOME="$BENCH_HOME" LLMLAB_ADDRESS="$GRPC_ADDRESS" HOME="$BENCH_HOME/user"
mkdir -p "$HOME"
admin() { "$BIN/llmlab-admin" "$@"; }
deadline=$(( SECONDS + HEALTH_WAIT ))
until [ -f "$BENCH_HOME/tls/ca.pem" ] && [ -f "$BENCH_HOME/operator.token" ] && admin health >/dev/null 2>&1 && \
      python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://" + sys.argv[1] + "/healthz", timeout=5)' "$HTTP_ADDRESS" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "llmlab-server exited before it was ready" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "llmlab-server did not report SERVING (gRPC $GRPC_ADDRESS, HTTP /healthz on $HTTP_ADDRESS) within $HEALTH_WAIT s (BENCH_HEALTH_WAIT)" >&2
    exit 1
  fi
  sleep 0.5
done
echo "==> server is SERVING"

echo "==> creating tenant, project, OpenAI provider key and proxy API key with llmlab-admin"
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
PASSWORD="bench alerts password $RANDOM$RANDOM"
SLUG="bench-alerts"
echo "$PASSWORD" | admin tenant create "$SLUG" --name "Alert benchmark" --owner-email owner@bench.example >/dev/null
echo "$PASSWORD" | admin login --tenant "$SLUG" --email owner@bench.example >/dev/null
PROJECT="$(admin project create "Alert benchmark" --providers openai --json | json_field id)"
# The fake upstream ignores the provider secret; it goes on stdin, never in argv.
echo "sk-bench-fake-upstream-0000" | admin key put --project "$PROJECT" --provider openai >/dev/null
API_KEY_FILE="$BENCH_HOME/api.key"
# (its stderr, "copy the secret now", is not for this script's reader)
( umask 077; admin apikey create bench-alerts --role member --project "$PROJECT" --scopes proxy --json 2>"$BENCH_HOME/apikey.err" | json_field secret >"$API_KEY_FILE" ) || { cat "$BENCH_HOME/apikey.err" >&2; exit 1; }
[ -s "$API_KEY_FILE" ] || { echo "llmlab-admin apikey create returned no secret" >&2; exit 1; }

echo "==> measuring alert lag"
export BENCH_ADMIN="$BIN/llmlab-admin"
python3 "$ROOT/ops/bench/alerts_lag.py" --proxy "http://$HTTP_ADDRESS" --project "$PROJECT" --api-key-file "$API_KEY_FILE" \
  --results-dir "$ROOT/ops/bench/results" --build-config "$CONFIG" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
