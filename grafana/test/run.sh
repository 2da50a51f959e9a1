#!/usr/bin/env bash
# Static checks of the Grafana dashboards and provisioning, plus the checker's own
# self-test. Needs python3 only: no Grafana, Prometheus or PostgreSQL.
#
#   grafana/test/run.sh          (from anywhere; CI runs it from the repository root)
#
# Live mode, against a running Prometheus and PostgreSQL, is check_dashboards.py
# with --prometheus and --postgres-url (see grafana/README.md).
# Ends with "grafana: N passed, M failed"; exits 1 when anything failed.
set -euo pipefail

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

main() {
  if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then usage; exit 0; fi
  if [[ $# -gt 0 ]]; then usage >&2; exit 2; fi
  cd "$(dirname "$0")/../.."

  local log status=0 passed=0 failed=0 p f
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  python3 grafana/test/test_checks.py | tee "$log" || status=1
  python3 grafana/test/check_dashboards.py | tee -a "$log" || status=1

  while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
  done < <(sed -n 's/^[a-z -]*: \([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*$/\1 \2/p' "$log")
  if [[ "$failed" -gt 0 ]]; then status=1; fi
  echo "grafana: $passed passed, $failed failed"
  exit "$status"
}

main "$@"
