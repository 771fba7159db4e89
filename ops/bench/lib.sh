# Shared by the benchmark scripts (sourced, not run): building the products, free ports,
# stopping processes and the embedded PostgreSQL cluster, showing logs on failure.
# Expects `set -euo pipefail` and ROOT set by the caller.

# Builds `$@` with CONFIG (release|debug) and BENCH_SCRATCH_PATH unless BENCH_SKIP_BUILD=1;
# sets BIN to the products' directory and checks every product is there.
bench_build() {
  CONFIG="${CONFIG:-release}"
  case "$CONFIG" in release|debug) ;; *) echo "CONFIG must be release or debug (got $CONFIG)" >&2; exit 2 ;; esac
  local flags=(-c "$CONFIG")
  if [ -n "${BENCH_SCRATCH_PATH:-}" ]; then
    flags+=(--scratch-path "$BENCH_SCRATCH_PATH")
  fi
  BIN="$(swift build "${flags[@]}" --show-bin-path)"
  if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
    echo "==> using the $CONFIG binaries already in $BIN (BENCH_SKIP_BUILD=1)"
  else
    echo "==> building $* ($CONFIG)"
    if [ "$CONFIG" = release ] && [ ! -x "$BIN/llmlab-server" ]; then
      echo "    first $CONFIG build: compiling all dependencies with optimisation takes a long time on 2 cores (about 8 minutes when idle, much longer under load); CONFIG=debug builds faster but its figures are not representative"
    fi
    local product
    for product in "$@"; do
      swift build "${flags[@]}" --product "$product"
    done
  fi
  for product in "$@"; do
    [ -x "$BIN/$product" ] || { echo "$BIN/$product is not built" >&2; exit 1; }
  done
}

# A free loopback port: bind port 0 and read what the kernel chose.
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Stops process $1 (named $2 in messages) with SIGTERM, waiting up to $3 seconds (default
# 60) before SIGKILL. Nothing happens for an empty or finished pid.
bench_stop_pid() {
  local pid="$1" name="$2" limit="${3:-60}"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local tries=$(( limit * 5 ))
  for _ in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "    $name did not stop within $limit s of SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# The embedded cluster stops with the server; make sure of it before its files are deleted.
bench_stop_embedded_pg() {
  local data="$1/pg/data"
  [ -f "$data/postmaster.pid" ] || return 0
  local pg_ctl
  pg_ctl="$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$pg_ctl" ] || return 0
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$pg_ctl" stop -D "$data" -m immediate -s >/dev/null 2>&1 || true
  else
    "$pg_ctl" stop -D "$data" -m immediate -s >/dev/null 2>&1 || true
  fi
}

# The last 40 lines of each non-empty log in "$@", on stderr.
bench_show_logs() {
  local log
  for log in "$@"; do
    if [ -s "$log" ]; then
      echo "---- last 40 lines of $log ----" >&2
      tail -n 40 "$log" >&2 || true
    fi
  done
}

# ---- A throw-away server for one benchmark run --------------------------------------
# A script calls bench_session NAME, then bench_start_upstream (optional: the fast fake
# OpenAI of llmlab-bench-proxy) and bench_start_server [extra llmlab-server flags], then
# bench_tenant / bench_proxy_tenant. Everything is stopped and the home removed on exit,
# whatever happens; a failing run shows the logs' tails.

# A fresh home (0711, so the embedded cluster's unprivileged user — the server runs it as
# `postgres` when we are root — can traverse it) and the EXIT trap that cleans up.
# Sets BENCH_HOME, SERVER_LOG, UPSTREAM_LOG; background pids the script starts itself go in
# BENCH_PIDS (stopped first, with SIGTERM).
bench_session() {
  local name="$1"
  BENCH_HOME="$(mktemp -d "${TMPDIR:-/tmp}/llmlab-bench-$name.XXXXXX")"
  chmod 711 "$BENCH_HOME"
  SERVER_LOG="$BENCH_HOME/server.log"
  UPSTREAM_LOG="$BENCH_HOME/upstream.log"
  SERVER_PID=""
  UPSTREAM_PID=""
  BENCH_PIDS=()
  trap bench_stop_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_stop_all() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "==> stopping llmlab-server (pid $SERVER_PID)"
    bench_stop_pid "$SERVER_PID" llmlab-server
  fi
  if [ -n "$UPSTREAM_PID" ] && kill -0 "$UPSTREAM_PID" 2>/dev/null; then
    kill -TERM "$UPSTREAM_PID" 2>/dev/null || true
    wait "$UPSTREAM_PID" 2>/dev/null || true
  fi
  bench_stop_embedded_pg "$BENCH_HOME"
  [ "$status" -eq 0 ] || bench_show_logs "$SERVER_LOG" "$UPSTREAM_LOG"
  rm -rf -- "$BENCH_HOME"
  exit "$status"
}

# Runs "$@" in the background and waits for it, so an interrupt reaches the traps at once;
# returns its exit status.
bench_wait() {
  "$@" &
  BENCH_PIDS+=($!)
  local status=0
  wait "${BENCH_PIDS[-1]}" || status=$?
  return "$status"
}

# The fake upstream binds port 0 itself and reports the port through a file: no race.
# Needs llmlab-bench-proxy built; sets UPSTREAM_PID and UPSTREAM_ADDRESS.
bench_start_upstream() {
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
}

# Starts llmlab-server on free loopback ports (plus "$@"; with the fake upstream when it
# runs) and waits until gRPC and /healthz answer (BENCH_HEALTH_WAIT, default 180 s). Sets
# SERVER_PID, GRPC_ADDRESS, HTTP_ADDRESS; exports LLMLAB_HOME, LLMLAB_ADDRESS and HOME
# (llmlab-admin finds the CA and operator token in the home and keeps its session there)
# and defines admin() and json_field().
bench_start_server() {
  GRPC_ADDRESS="127.0.0.1:$(bench_free_port)"
  HTTP_ADDRESS="127.0.0.1:$(bench_free_port)"
  local args=(serve --home "$BENCH_HOME" --grpc-address "$GRPC_ADDRESS" --http-address "$HTTP_ADDRESS"
              --log-level "${BENCH_LOG_LEVEL:-notice}")
  [ -n "${UPSTREAM_ADDRESS:-}" ] && args+=(--openai-base-url "http://$UPSTREAM_ADDRESS/v1")
  echo "==> starting llmlab-server: gRPC $GRPC_ADDRESS, HTTP $HTTP_ADDRESS (home $BENCH_HOME)"
  LLMLAB_HOME="$BENCH_HOME" "$BIN/llmlab-server" "${args[@]}" "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  export LLMLAB_HOME="$BENCH_HOME" LLMLAB_ADDRESS="$GRPC_ADDRESS" HOME="$BENCH_HOME/user"
  mkdir -p "$HOME"
  local wait="${BENCH_HEALTH_WAIT:-180}"
  local deadline=$(( SECONDS + wait ))
  until [ -f "$BENCH_HOME/tls/ca.pem" ] && [ -f "$BENCH_HOME/operator.token" ] && admin health >/dev/null 2>&1 && \
        python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://" + sys.argv[1] + "/healthz", timeout=5)' "$HTTP_ADDRESS" >/dev/null 2>&1; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "llmlab-server exited before it was ready" >&2; exit 1; }
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "llmlab-server did not report SERVING (gRPC $GRPC_ADDRESS, HTTP /healthz on $HTTP_ADDRESS) within $wait s (BENCH_HEALTH_WAIT)" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "==> server is SERVING"
}

admin() { "$BIN/llmlab-admin" "$@"; }
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# A tenant SLUG named NAME whose owner (owner@bench.example, password in
# $BENCH_HOME/password) is logged in for admin(). Sets SLUG, EMAIL, PASSWORD_FILE.
bench_tenant() {
  SLUG="$1"
  EMAIL="owner@bench.example"
  PASSWORD_FILE="$BENCH_HOME/password"
  ( umask 077; echo "$SLUG password $RANDOM$RANDOM" >"$PASSWORD_FILE" )
  admin tenant create "$SLUG" --name "$2" --owner-email "$EMAIL" <"$PASSWORD_FILE" >/dev/null
  admin login --tenant "$SLUG" --email "$EMAIL" <"$PASSWORD_FILE" >/dev/null
}

# An API key for PROJECT with SCOPES, its secret written (0600) to FILE.
bench_api_key() {
  local name="$1" project="$2" scopes="$3" file="$4"
  # (its stderr, "copy the secret now", is not for this script's reader)
  ( umask 077; admin apikey create "$name" --role member --project "$project" --scopes "$scopes" --json 2>"$BENCH_HOME/apikey.err" \
      | json_field secret >"$file" ) || { cat "$BENCH_HOME/apikey.err" >&2; exit 1; }
  [ -s "$file" ] || { echo "llmlab-admin apikey create returned no secret" >&2; exit 1; }
}

# bench_tenant, plus a project with an OpenAI provider key (the fake upstream ignores the
# secret; it goes on stdin, never in argv) and a proxy API key. Sets PROJECT, API_KEY_FILE.
bench_proxy_tenant() {
  bench_tenant "$1" "$2"
  echo "==> creating project, OpenAI provider key and proxy API key with llmlab-admin"
  PROJECT="$(admin project create "$2" --providers openai --json | json_field id)"
  echo "sk-bench-fake-upstream-0000" | admin key put --project "$PROJECT" --provider openai >/dev/null
  API_KEY_FILE="$BENCH_HOME/api.key"
  bench_api_key "$1" "$PROJECT" proxy "$API_KEY_FILE"
}

# The postmaster's pid (first line of postmaster.pid) as `--postgres-pid N` in
# POSTGRES_ARGS, for its CPU and RSS; empty when unknown.
bench_postgres_args() {
  POSTGRES_ARGS=()
  if [ -r "$BENCH_HOME/pg/data/postmaster.pid" ]; then
    local pg_pid
    pg_pid="$(head -n 1 "$BENCH_HOME/pg/data/postmaster.pid" | tr -dc '0-9')"
    [ -n "$pg_pid" ] && POSTGRES_ARGS=(--postgres-pid "$pg_pid")
  fi
  return 0
}
