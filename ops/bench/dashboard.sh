#!/usr/bin/env bash
# Dashboard benchmark (`make bench-dashboard`): builds llmlab-server and llmlab-admin, starts
# a throw-away server (fresh LLMLAB_HOME, embedded PostgreSQL), creates a tenant with 5
# projects (budgets set) and 4 proxy keys each through llmlab-admin, generates
# BENCH_EVENTS usage events (default 10,000,000, over 90 days, with the hourly rollups the
# usage writer keeps) and BENCH_TRACES traces of 10 spans (default 100,000 → 1,000,000
# spans) straight into the tenant's schema (ops/bench/dashboard/generate.sql), then
# measures every dashboard page's server time (its `Server-Timing: app;dur` header) and the
# analytics/trace RPCs over gRPC (ops/bench/dashboard/measure.py, repo venv with the SDK's
# stubs). Always stops everything and removes the home. Figures are measured, not asserted.
#
#   ops/bench/dashboard.sh
#   BENCH_EVENTS=1000000 BENCH_TRACES=10000 ops/bench/dashboard.sh     # a quick look
#
# Environment:
#   CONFIG              release (default) or debug
#   BENCH_SCRATCH_PATH  SwiftPM scratch directory (e.g. .build-bench: keeps a long release
#                       build from holding the .build lock)
#   BENCH_SKIP_BUILD    1: use the binaries already built for CONFIG
#   BENCH_EVENTS        usage events to generate (default 10000000; about 6–10 min here)
#   BENCH_TRACES        traces of 10 spans to generate (default 100000)
#   BENCH_REPEATS       requests per page / RPC after one warm-up (default 20)
#   BENCH_HEALTH_WAIT   seconds to wait for the server (default 180)
#
# Results: tables on stdout and ops/bench/results/dashboard-<timestamp>.json (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source "$ROOT/ops/bench/lib.sh"
EVENTS="${BENCH_EVENTS:-10000000}"
TRACES="${BENCH_TRACES:-100000}"
REPEATS="${BENCH_REPEATS:-20}"
command -v psql >/dev/null || { echo "psql is needed to generate the data (apt-get install postgresql-client)" >&2; exit 1; }
bench_build llmlab-server llmlab-admin

# The SDK's gRPC stubs are generated from Proto/ when it is installed: reinstall so they match.
echo "==> installing the Python SDK (gRPC stubs from Proto/) into .venv"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -c sdks/python/constraints.txt "./sdks/python[grpc]"

bench_session dashboard
bench_start_server
echo "==> creating the tenant, 5 projects (budgets) and 20 proxy keys"
bench_tenant bench-dashboard "Dashboard benchmark"
FIRST_PROJECT=""
for name in "Support bot" "Search" "Summaries" "Agents" "Internal tools"; do
  project="$(admin project create "$name" --budget 25000 --json | json_field id)"
  FIRST_PROJECT="${FIRST_PROJECT:-$project}"
  for key in 1 2 3 4; do
    admin apikey create "${name// /-}-$key" --role member --project "$project" --scopes proxy --json >/dev/null 2>&1
  done
done

PG_SOCKET="$BENCH_HOME/pg/run"
psql_cmd=(psql -X -q -A -t -h "$PG_SOCKET" -p 5432 -U postgres -d llmlab)
SCHEMA="$("${psql_cmd[@]}" -c "SELECT schema_name FROM control.tenants WHERE slug = '$SLUG'")"
[ -n "$SCHEMA" ] || { echo "tenant schema not found" >&2; exit 1; }
echo "==> generating $EVENTS usage events and $TRACES traces ($(( TRACES * 10 )) spans) in $SCHEMA"
gen_started=$SECONDS
"${psql_cmd[@]}" -v ON_ERROR_STOP=1 -v schema="$SCHEMA" -v events="$EVENTS" -v traces="$TRACES" -v days=90 \
  -f ops/bench/dashboard/generate.sql
GEN_SECONDS=$(( SECONDS - gen_started ))
SIZES="$("${psql_cmd[@]}" -c "SELECT (SELECT count(*) FROM \"$SCHEMA\".usage_events) || ' ' || (SELECT count(*) FROM \"$SCHEMA\".spans) || ' ' || (SELECT count(*) FROM \"$SCHEMA\".traces) || ' ' || (SELECT count(*) FROM \"$SCHEMA\".usage_rollup_hourly)")"
read -r N_EVENTS N_SPANS N_TRACES N_ROLLUP <<<"$SIZES"
echo "    $N_EVENTS usage events, $N_SPANS spans, $N_TRACES traces, $N_ROLLUP rollup rows (generated in ${GEN_SECONDS}s)"

RESULTS_DIR="$ROOT/ops/bench/results"
mkdir -p "$RESULTS_DIR"
RESULT_JSON="$RESULTS_DIR/dashboard-$(date -u +%Y%m%dT%H%M%SZ).json"
META="$(python3 -c 'import json, sys; print(json.dumps({"build": sys.argv[1], "usage_events": int(sys.argv[2]), "spans": int(sys.argv[3]), "traces": int(sys.argv[4]), "rollup_rows": int(sys.argv[5]), "generate_seconds": int(sys.argv[6]), "cores": int(sys.argv[7])}))' \
  "$CONFIG" "$N_EVENTS" "$N_SPANS" "$N_TRACES" "$N_ROLLUP" "$GEN_SECONDS" "$(nproc)")"
echo "==> measuring ($REPEATS requests per page and RPC after a warm-up)"
export PYTHONPATH="$ROOT/sdks/python" PYTHONDONTWRITEBYTECODE=1
bench_wait .venv/bin/python ops/bench/dashboard/measure.py \
  --http-address "$HTTP_ADDRESS" --grpc-address "$GRPC_ADDRESS" --ca-file "$BENCH_HOME/tls/ca.pem" \
  --tenant "$SLUG" --email "$EMAIL" --password-file "$PASSWORD_FILE" --project-id "$FIRST_PROJECT" \
  --repeats "$REPEATS" --json "$RESULT_JSON" --meta "$META"
