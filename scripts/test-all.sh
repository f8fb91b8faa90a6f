#!/usr/bin/env bash
# `npm test`: everything CI checks, in order of speed. Needs PostgreSQL on 127.0.0.1:5432
# (or TEST_DATABASE_ADMIN_URL) and Debian's headless Chromium at /usr/bin/chromium-headless-shell (or CHROMIUM_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

step "Prisma client"
node scripts/prisma-generate.mjs >/dev/null
step "Typecheck"
npx tsc --noEmit
step "Lint"
npx eslint --max-warnings=0 .
step "Unit and integration tests (Vitest, real PostgreSQL and embedded PGlite)"
npx vitest run
step "Production build"
npx next build
# Two instances on one database behind a round-robin proxy: every journey also proves that what
# one instance changes, the other honours (E2E_INSTANCES=1 for a single server).
step "End-to-end tests (Playwright, Chromium, two production instances behind a proxy)"
E2E_INSTANCES="${E2E_INSTANCES:-2}" npx playwright test
