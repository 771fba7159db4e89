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
