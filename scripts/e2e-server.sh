#!/usr/bin/env bash
# Starts the production build on a fresh database for the end-to-end tests.
set -euo pipefail
admin_url="${TEST_DATABASE_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
psql "$admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE ${E2E_DATABASE}"
export DATABASE_URL="${admin_url%/*}/${E2E_DATABASE}"
set -a; eval "$(npx tsx scripts/keys-generate.ts)"; set +a
export NODE_ENV=production
export GATEHOUSE_LOG_FILE="${TMPDIR:-/tmp}/${E2E_DATABASE}.log"
exec npx tsx server.ts
