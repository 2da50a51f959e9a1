#!/usr/bin/env bash
# Runs every opswatch test on a fresh Debian machine: installs what is missing, starts a
# throwaway PostgreSQL, runs each suite, stops everything, and prints one summary line.
#
#   scripts/test.sh            # everything (what CI runs)
#   scripts/test.sh exporter   # only the named suites: exporter contract alerting runbooks grafana stack e2e bench
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALL_SUITES=(exporter contract alerting runbooks grafana stack e2e bench)
APT_PACKAGES=(parallel pgbouncer postgresql-15 postgresql-client-15 prometheus prometheus-alertmanager shellcheck bats jq curl python3 maven openjdk-17-jdk-headless docker-compose python3-pytest python3-yaml python3-prometheus-client)

# Python tests use Debian's python3 with python3-pytest and python3-yaml (PyPI is not reachable), even
# where another python3 (pyenv, a virtualenv) comes first on PATH.
export PATH="/usr/bin:$PATH"
JUNIT_DIR="$REPO/.tmp/junit"

log() { printf '== %s\n' "$*" >&2; }

# run_pytest SUITE PATH...: pytest on the given folders or files, with a JUnit XML report for CI in
# .tmp/junit/SUITE.xml.
run_pytest() {
  local suite="$1"
  shift
  mkdir -p "$JUNIT_DIR"
  (cd "$REPO" && python3 -m pytest --junitxml="$JUNIT_DIR/$suite.xml" "$@")
}

missing_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

install_prerequisites() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    return
  fi
  log "installing: ${missing[*]}"
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  # Tests start their own servers on free loopback ports, so a service the packages may
  # start (where systemd runs) is in nobody's way; it is left alone.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_database() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-test.XXXXXX")"
  [[ "$(id -u)" == 0 ]] && chmod 755 "$WORK"
  eval "$("$REPO/scripts/pg-throwaway.sh" start "$WORK/pg")"
  export OPSWATCH_TEST_DATABASE_URL OPSWATCH_TEST_PG_PORT OPSWATCH_TEST_PG_DIR OPSWATCH_TEST_WORK="$WORK"
  log "throwaway PostgreSQL on port $OPSWATCH_TEST_PG_PORT"
}

cleanup() {
  if [[ -n "${WORK:-}" ]]; then
    "$REPO/scripts/pg-throwaway.sh" stop "$WORK/pg" || true
    rm -rf "$WORK"
  fi
}

suite_exporter() { (cd "$REPO" && mvn -B -ntp verify); }
suite_contract() { python3 "$REPO/scripts/check-metric-contract.py"; }
suite_alerting() { "$REPO/prometheus/test.sh" && "$REPO/alertmanager/test.sh"; }
suite_runbooks() { "$REPO/runbooks/test/run.sh"; }
suite_grafana() { "$REPO/grafana/test/run.sh"; }
suite_stack() { "$REPO/scripts/check-compose.sh"; }
suite_e2e() { "$REPO/e2e/run.sh"; }
# The bench's arithmetic, validity checks and report, from a fixture run (not the benchmark itself).
suite_bench() { run_pytest bench bench/tests; }

main() {
  local suites=("$@")
  ((${#suites[@]})) || suites=("${ALL_SUITES[@]}")
  install_prerequisites
  trap cleanup EXIT
  start_database
  local passed=0 failed=0 failures=() suite started
  for suite in "${suites[@]}"; do
    log "suite: $suite"
    started=$SECONDS
    if "suite_$suite"; then
      passed=$((passed + 1))
      log "suite $suite passed in $((SECONDS - started)) s"
    else
      failed=$((failed + 1))
      failures+=("$suite")
      log "suite $suite FAILED in $((SECONDS - started)) s"
    fi
  done
  ((failed == 0)) || log "failed suites: ${failures[*]}"
  echo "suites: $passed passed, $failed failed"
  ((failed == 0))
}

main "$@"
