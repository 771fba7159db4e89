#!/usr/bin/env bash
# `make run`: prints what to try next, then runs llmlab-server in the foreground with the
# embedded PostgreSQL under ./.llmlab (Ctrl-C stops both cleanly).
set -euo pipefail
bin=${1:?usage: run-server.sh BIN_DIR}
admin="$bin/llmlab-admin"
rel_admin=$(realpath --relative-to="$PWD" "$admin" 2>/dev/null || echo "$admin")

cat <<MSG

  LLMLab is starting: gRPC over TLS on 127.0.0.1:7443, the proxy and the dashboard on
  http://127.0.0.1:8080, state in ./.llmlab (development CA in ./.llmlab/tls/ca.pem,
  operator token in ./.llmlab/operator.token).

  In another terminal, from this directory, try:
    $rel_admin health
    $rel_admin tenant create acme --name "Acme" --owner-email you@example.com
    $rel_admin login --tenant acme --email you@example.com
    $rel_admin project create "Support bot" --budget 500 --providers openai,anthropic
    $rel_admin key put --project <project id> --provider openai      (secret read from stdin)
    $rel_admin apikey create app --role member --project <project id> --scopes proxy
      then point any OpenAI client at http://127.0.0.1:8080/v1 with that llk_… key
    $rel_admin alert channel add ops --url http://127.0.0.1:9000/hook
    $rel_admin audit verify

  Dashboard: open http://127.0.0.1:8080/ui and sign in with the tenant (acme), email and
  password above.

MSG
exec "$bin/llmlab-server"
