#!/usr/bin/env bash
# The end-to-end test of the alert path; needs scripts/test.sh's throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z "${OPSWATCH_TEST_DATABASE_URL:-}" ]]; then
  echo "e2e/run.sh: run it through scripts/test.sh (it starts the throwaway PostgreSQL)" >&2
  exit 2
fi
exec python3 e2e/e2e.py
