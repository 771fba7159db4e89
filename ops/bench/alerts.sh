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
command -v python3 >/dev/null || { echo "python3 is needed (free ports, JSON from llmlab-admin)" >&2; exit 1; }
bench_build llmlab-server llmlab-admin llmlab-bench-proxy
bench_session alerts
bench_start_upstream
bench_start_server
bench_proxy_tenant bench-alerts "Alert benchmark"

echo "==> measuring alert lag"
export BENCH_ADMIN="$BIN/llmlab-admin"
bench_wait python3 "$ROOT/ops/bench/alerts_lag.py" --proxy "http://$HTTP_ADDRESS" --project "$PROJECT" \
  --api-key-file "$API_KEY_FILE" --results-dir "$ROOT/ops/bench/results" --build-config "$CONFIG" "$@"
