#!/usr/bin/env bash
# OTLP ingest benchmark (`make bench-ingest`): builds llmlab-server, llmlab-admin and
# llmlab-bench-ingest, starts a throw-away server (fresh LLMLAB_HOME: embedded PostgreSQL,
# development TLS CA) on free loopback ports, creates a tenant, project and an API key with
# the `ingest` scope with llmlab-admin, then measures sustained OTLP ingest (spans/s
# acknowledged = durable) over HTTP (protobuf, protobuf+gzip) and gRPC with realistic GenAI
# spans, the export latency, the server's CPU/RSS and PostgreSQL's CPU; counts what landed
# in PostgreSQL (and the spool) afterwards; then measures the Python SDK's @llmlab.trace
# overhead per span against a bare OpenTelemetry span (ops/bench/sdk_overhead.py, repo
# venv). Always stops everything and removes the home. Figures are measured, not asserted.
#
#   ops/bench/ingest.sh                      # release build, 10 s per phase
#   ops/bench/ingest.sh --duration 5         # extra arguments go to llmlab-bench-ingest
#   CONFIG=debug ops/bench/ingest.sh --duration 2   # debug build (label the figures as debug!)
#
# Environment:
#   CONFIG              release (default) or debug
#   BENCH_SCRATCH_PATH  SwiftPM scratch directory (default: SwiftPM's .build). A separate one
#                       (e.g. .build-bench) keeps a long release build from holding the
#                       .build lock while others build there.
#   BENCH_HEALTH_WAIT   seconds to wait for the server to report SERVING (default 180)
#   BENCH_LOG_LEVEL     llmlab-server --log-level (default notice: nothing per request)
#   BENCH_SKIP_BUILD    1: use the binaries already built for CONFIG (no swift build)
#   BENCH_SDK           0: skip the SDK decorator overhead part (default 1)
#   BENCH_SDK_CALLS     calls per variant and repeat for the SDK part (default 100000)
#   BENCH_SDK_REPEATS   repeats for the SDK part (default 5)
#
# Results: tables on stdout and ops/bench/results/ingest-<timestamp>.json (git-ignored),
# with the stored-span count and the SDK figures merged in.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

source "$ROOT/ops/bench/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed (free ports, JSON from llmlab-admin)" >&2; exit 1; }
bench_build llmlab-server llmlab-admin llmlab-bench-ingest
bench_session ingest
bench_start_server
echo "==> creating tenant, project and ingest API key with llmlab-admin"
bench_tenant bench-ingest "Ingest benchmark"
PROJECT="$(admin project create "Ingest benchmark" --json | json_field id)"
API_KEY_FILE="$BENCH_HOME/api.key"
bench_api_key otel "$PROJECT" ingest "$API_KEY_FILE"
bench_postgres_args

echo "==> running the load"
RESULTS_DIR="$ROOT/ops/bench/results"
mkdir -p "$RESULTS_DIR"
# In the background and waited for, so an interrupt reaches the traps at once (bounded
# anyway: each phase ends after --duration). Its exit status is kept: errors are reported
# after the stored count and the SDK part, and the script then fails.
bench_status=0
bench_wait "$BIN/llmlab-bench-ingest" --http-address "$HTTP_ADDRESS" --grpc-address "$GRPC_ADDRESS" \
  --ca-file "$BENCH_HOME/tls/ca.pem" --api-key-file "$API_KEY_FILE" --server-pid "$SERVER_PID" "${POSTGRES_ARGS[@]}" \
  --results-dir "$RESULTS_DIR" --result-path-file "$BENCH_HOME/result.path" --build-config "$CONFIG" "$@" || bench_status=$?
RESULT_JSON=""
ACKED=""
if [ -s "$BENCH_HOME/result.path" ]; then
  RESULT_JSON="$(head -n 1 "$BENCH_HOME/result.path")"
  ACKED="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["totalSpansAcknowledged"])' "$RESULT_JSON" 2>/dev/null || true)"
fi

# What is durable now: rows in the tenant's spans table(s) plus spans waiting in the spool.
# Trust authentication over the cluster's private unix socket; root may read it.
echo "==> counting the stored spans"
STORED=""
PG_SOCKET="$BENCH_HOME/pg/run"
psql_cmd=(psql -X -q -A -t -h "$PG_SOCKET" -p 5432 -U postgres -d llmlab)
if command -v psql >/dev/null && [ -d "$PG_SOCKET" ]; then
  schemas="$("${psql_cmd[@]}" -c "SELECT table_schema FROM information_schema.tables WHERE table_name = 'spans' AND table_schema LIKE 't\_%'" 2>"$BENCH_HOME/psql.err" || true)"
  if [ -n "$schemas" ]; then
    STORED=0
    for schema in $schemas; do
      n="$("${psql_cmd[@]}" -c "SELECT count(*) FROM \"$schema\".spans" 2>>"$BENCH_HOME/psql.err" || echo "")"
      [ -n "$n" ] || { STORED=""; break; }
      STORED=$(( STORED + n ))
    done
  fi
  [ -n "$STORED" ] || { echo "    could not count the spans in PostgreSQL:" >&2; cat "$BENCH_HOME/psql.err" >&2 || true; }
else
  echo "    psql or the cluster's socket ($PG_SOCKET) is missing: stored count skipped" >&2
fi
SPOOLED=0
if compgen -G "$BENCH_HOME/spool-spans/*.jsonl" >/dev/null; then
  SPOOLED="$(cat "$BENCH_HOME"/spool-spans/*.jsonl | wc -l | tr -d ' ')"
fi
echo "    acknowledged ${ACKED:-?} · in PostgreSQL ${STORED:-?} · in the spool ${SPOOLED}"
if [ -n "$STORED" ] && [ -n "$ACKED" ] && [ $(( STORED + SPOOLED )) -lt "$ACKED" ]; then
  echo "!!! FEWER SPANS STORED ($STORED in PostgreSQL + $SPOOLED spooled) THAN ACKNOWLEDGED ($ACKED)" >&2
  bench_status=1
fi

# SDK decorator overhead: pure Python, no server needed; the SDK from this tree
# (PYTHONPATH) in the repo venv, set up as `make test-sdk` does when it is missing.
SDK_JSON=""
if [ "${BENCH_SDK:-1}" = 1 ]; then
  echo "==> SDK decorator overhead (@llmlab.trace vs a bare OpenTelemetry span)"
  if ! [ -x .venv/bin/python ] || ! .venv/bin/python -c 'import opentelemetry.sdk' 2>/dev/null; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -c sdks/python/constraints.txt "./sdks/python[dev,grpc,openai,anthropic,recipes]"
  fi
  SDK_JSON="$BENCH_HOME/sdk.json"
  export PYTHONPATH="$ROOT/sdks/python" PYTHONDONTWRITEBYTECODE=1
  bench_wait .venv/bin/python ops/bench/sdk_overhead.py \
    --calls "${BENCH_SDK_CALLS:-100000}" --repeats "${BENCH_SDK_REPEATS:-5}" --json "$SDK_JSON" \
    || { echo "!!! the SDK overhead measurement failed" >&2; SDK_JSON=""; bench_status=1; }
fi

# Merge the stored count and the SDK figures into the run's JSON.
if [ -n "$RESULT_JSON" ] && [ -f "$RESULT_JSON" ]; then
  python3 - "$RESULT_JSON" "${ACKED:-}" "${STORED:-}" "$SPOOLED" "${SDK_JSON:-}" <<'PY'
import json, sys
path, acked, stored, spooled, sdk = sys.argv[1:6]
report = json.load(open(path))
report["storedVerification"] = {
    "acknowledgedSpans": int(acked) if acked else None,
    "spansInPostgreSQL": int(stored) if stored else None,
    "spansInSpool": int(spooled),
    "method": "after the run: count(*) of the tenant's spans table over the cluster's unix socket, plus lines in $LLMLAB_HOME/spool-spans/*.jsonl",
}
if sdk:
    report["sdkOverhead"] = json.load(open(sdk))
json.dump(report, open(path, "w"), indent=2, sort_keys=True)
PY
  echo "==> results: $RESULT_JSON"
fi
exit "$bench_status"
