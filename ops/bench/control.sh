#!/usr/bin/env bash
# Control-plane benchmarks (`make bench-control`): builds llmlab-server, llmlab-admin and
# llmlab-bench-control, starts a throw-away server (fresh LLMLAB_HOME: embedded PostgreSQL,
# development TLS CA) on a free loopback port, runs the benchmark against it over TLS,
# then stops the server and removes the temporary home. Figures are measured, not asserted.
#
#   ops/bench/control.sh                    # release build, 10 s per phase
#   ops/bench/control.sh --duration 5       # extra arguments go to llmlab-bench-control
#   CONFIG=debug ops/bench/control.sh       # debug build (label the figures as debug!)
#
# Environment:
#   CONFIG              release (default) or debug
#   BENCH_SCRATCH_PATH  SwiftPM scratch directory (default: SwiftPM's .build). A separate one
#                       (e.g. .build-bench) keeps a long release build from holding the
#                       .build lock while others build there.
#   BENCH_HEALTH_WAIT   seconds to wait for the server to report SERVING (default 180)
#
# Results: a table on stdout and ops/bench/results/control-<timestamp>.json (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

source "$ROOT/ops/bench/lib.sh"
HEALTH_WAIT="${BENCH_HEALTH_WAIT:-180}"
bench_build llmlab-server llmlab-admin llmlab-bench-control

# A fresh home: 0711 so the embedded cluster's unprivileged user (the server runs it as
# `postgres` when we are root) can traverse it and nothing gets relocated outside it.
BENCH_HOME="$(mktemp -d "${TMPDIR:-/tmp}/llmlab-bench.XXXXXX")"
chmod 711 "$BENCH_HOME"
SERVER_LOG="$BENCH_HOME/server.log"
SERVER_PID=""
BENCH_PID=""

stop_server() {
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
  bench_stop_embedded_pg "$BENCH_HOME"
  if [ "$status" -ne 0 ] && [ -f "$SERVER_LOG" ]; then
    echo "---- last 40 lines of the server log ($SERVER_LOG) ----" >&2
    tail -n 40 "$SERVER_LOG" >&2 || true
  fi
  rm -rf -- "$BENCH_HOME"
  exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback port: bind port 0 and read what the kernel chose.
PORT="$(bench_free_port 2>/dev/null || true)"
if [ -z "$PORT" ]; then
  PORT=$(( 20000 + RANDOM % 30000 ))
fi
ADDRESS="127.0.0.1:$PORT"
HTTP_PORT="$(bench_free_port 2>/dev/null || echo $(( PORT + 1 )))"

echo "==> starting llmlab-server on $ADDRESS (home $BENCH_HOME)"
LLMLAB_HOME="$BENCH_HOME" "$BIN/llmlab-server" serve --home "$BENCH_HOME" --grpc-address "$ADDRESS" \
  --http-address "127.0.0.1:$HTTP_PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

CA_FILE="$BENCH_HOME/tls/ca.pem"
TOKEN_FILE="$BENCH_HOME/operator.token"
deadline=$(( SECONDS + HEALTH_WAIT ))
until [ -f "$CA_FILE" ] && [ -f "$TOKEN_FILE" ] && \
      LLMLAB_HOME="$BENCH_HOME" "$BIN/llmlab-admin" health --address "$ADDRESS" --ca-file "$CA_FILE" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "llmlab-server exited before it was ready" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "llmlab-server did not report SERVING on $ADDRESS within $HEALTH_WAIT s (BENCH_HEALTH_WAIT)" >&2
    exit 1
  fi
  sleep 0.5
done
echo "==> server is SERVING"

# In the background and waited for, so an interrupt reaches the traps at once (bounded
# anyway: each phase ends after --duration).
"$BIN/llmlab-bench-control" --address "$ADDRESS" --ca-file "$CA_FILE" --operator-token-file "$TOKEN_FILE" \
  --results-dir "$ROOT/ops/bench/results" --build-config "$CONFIG" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
