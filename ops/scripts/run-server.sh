#!/usr/bin/env bash
# `make run`: prints what to try next, then runs llmlab-server in the foreground with the
# embedded PostgreSQL under ./.llmlab (Ctrl-C stops both cleanly).
set -euo pipefail
bin=${1:?usage: run-server.sh BIN_DIR}
admin="$bin/llmlab-admin"
rel_admin=$(realpath --relative-to="$PWD" "$admin" 2>/dev/null || echo "$admin")

cat <<MSG

  LLMLab is starting: gRPC over TLS on 127.0.0.1:7443, state in ./.llmlab
  (development CA in ./.llmlab/tls/ca.pem, operator token in ./.llmlab/operator.token).

  In another terminal, from this directory, try:
    $rel_admin health
    $rel_admin tenant create acme --name "Acme" --owner-email you@example.com
    $rel_admin login --tenant acme --email you@example.com
    $rel_admin project create "Support bot" --budget 500 --providers openai,anthropic
    $rel_admin key put --project <project id> --provider openai      (secret read from stdin)
    $rel_admin apikey create ci --role member --expires-in 30d
    $rel_admin audit verify

MSG
exec "$bin/llmlab-server"
