#!/usr/bin/env bash
# Proxy benchmark (`make bench-proxy`): builds llmlab-server, llmlab-admin and
# llmlab-bench-proxy, starts a fast fake OpenAI upstream and a throw-away server (fresh
# LLMLAB_HOME: embedded PostgreSQL, development TLS CA) pointed at it with
# --openai-base-url, creates a tenant, project, OpenAI provider key and proxy API key with
# llmlab-admin, then measures the latency the proxy adds (proxy − direct) and its maximum
# non-streaming RPS, and the server's RSS. Always stops everything and removes the home.
# Figures are measured, not asserted.
#
#   ops/bench/proxy.sh                      # release build, 10 s per phase
#   ops/bench/proxy.sh --duration 5         # extra arguments go to `llmlab-bench-proxy run`
#   CONFIG=debug ops/bench/proxy.sh --duration 2   # debug build (label the figures as debug!)
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
# Results: a table on stdout and ops/bench/results/proxy-<timestamp>.json (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

source "$ROOT/ops/bench/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed (free ports, JSON from llmlab-admin)" >&2; exit 1; }
bench_build llmlab-server llmlab-admin llmlab-bench-proxy
bench_session proxy
bench_start_upstream
bench_start_server
bench_proxy_tenant bench-proxy "Proxy benchmark"
bench_postgres_args

echo "==> running the load"
# Bounded anyway: each phase ends after --duration.
bench_wait "$BIN/llmlab-bench-proxy" run --proxy-address "$HTTP_ADDRESS" --upstream-address "$UPSTREAM_ADDRESS" \
  --api-key-file "$API_KEY_FILE" --server-pid "$SERVER_PID" --upstream-pid "$UPSTREAM_PID" "${POSTGRES_ARGS[@]}" \
  --results-dir "$ROOT/ops/bench/results" --build-config "$CONFIG" "$@"
