#!/usr/bin/env bash
# The whole test suite on real services: installs dependencies if missing, brings the local stack up
# (idempotent: fast when it already runs), then runs jest. ESLint runs before the stack comes up. Extra arguments go to jest.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# Lint first (typed: no floating promises, the workflow sandbox's import boundary): a lint error fails the run.
npx eslint .
bash scripts/stack.sh up
bash scripts/test-tools.sh
exec npx jest --runInBand "$@"
