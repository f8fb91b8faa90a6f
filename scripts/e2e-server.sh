#!/usr/bin/env bash
# Starts the production build on a fresh database for the end-to-end tests. With E2E_INSTANCES=2,
# two instances on that database behind a round-robin proxy (e2e/support/round-robin-proxy.mjs).
set -euo pipefail
admin_url="${TEST_DATABASE_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
psql "$admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE ${E2E_DATABASE}"
export DATABASE_URL="${admin_url%/*}/${E2E_DATABASE}"
set -a; eval "$(npx tsx scripts/keys-generate.ts)"; set +a
export NODE_ENV=production
export GATEHOUSE_LOG_FILE="${TMPDIR:-/tmp}/${E2E_DATABASE}.log"
if [ "${E2E_INSTANCES:-1}" != "2" ]; then
  exec npx tsx server.ts
fi

trap 'kill 0' EXIT
PORT=$((PORT + 1)) npx tsx server.ts &
# The first instance applies the migrations and creates the first-admin link before the second starts.
until curl -fs "http://127.0.0.1:$((PORT + 1))/sign-in" >/dev/null; do sleep 0.5; done
PORT=$((PORT + 2)) GATEHOUSE_LOG_FILE="${GATEHOUSE_LOG_FILE%.log}-b.log" npx tsx server.ts &
until curl -fs "http://127.0.0.1:$((PORT + 2))/sign-in" >/dev/null; do sleep 0.5; done
node e2e/support/round-robin-proxy.mjs "$PORT" "$((PORT + 1))" "$((PORT + 2))" &
wait
