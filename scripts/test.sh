#!/usr/bin/env bash
# The one test command: runs every opswatch test on a fresh Debian machine. Installs what is missing
# (APT_PACKAGES), starts a throwaway PostgreSQL, runs each suite with its ecosystem's own runner, stops
# everything, and ends with one line: `suites: N passed, M failed`.
#
#   scripts/test.sh                  # every suite (what CI runs, through .ci/run)
#   scripts/test.sh contract e2e     # only the named suites (ALL_SUITES below)
#
# Runners: Maven (Surefire unit tests, Failsafe *IT against the throwaway PostgreSQL) for exporter/;
# pytest (Debian's python3-pytest; shared fixtures in the root conftest.py, helpers in scripts/testkit.py)
# for every Python check, each suite on its own folders (scripts/tests/, e2e/, prometheus/tests/, ...);
# bats and shellcheck for the runbooks; promtool and amtool for the rules and the Alertmanager config.
# Each suite prints its runner's own report; pytest suites also write JUnit XML to .tmp/junit/SUITE.xml
# and keep their temporary files (process logs) under the run's folder. See docs/testing.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ALL_SUITES=(exporter contract docs alerting runbooks grafana roles stack e2e kubernetes ha bench)
APT_PACKAGES=(parallel pgbouncer postgresql-15 postgresql-client-15 prometheus prometheus-alertmanager shellcheck bats jq curl python3 maven openjdk-17-jdk-headless docker-compose python3-pytest python3-yaml python3-prometheus-client python3-markdown-it jsonnet nodejs)

# Python tests use Debian's python3 with python3-pytest, python3-yaml, python3-prometheus-client and
# python3-markdown-it (PyPI is not reachable), even where another python3 (pyenv, a virtualenv) comes
# first on PATH.
export PATH="/usr/bin:$PATH"
JUNIT_DIR="$REPO/.tmp/junit"

log() { printf '== %s\n' "$*" >&2; }

# run_pytest SUITE PATH...: pytest on the given folders or files, with a JUnit XML report for CI in
# .tmp/junit/SUITE.xml, and its temporary folders (tmp_path: process logs, configs) in the run's folder.
run_pytest() {
  local suite="$1"
  shift
  mkdir -p "$JUNIT_DIR"
  (cd "$REPO" && python3 -m pytest --junitxml="$JUNIT_DIR/$suite.xml" --basetemp="$WORK/pytest-$suite" "$@")
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

# The exporter's build must stay warning-free (issue #20): a [WARNING] line from Maven fails the suite.
suite_exporter() {
  local build_log="$REPO/.tmp/exporter-build.log"
  mkdir -p "$REPO/.tmp"
  (cd "$REPO" && mvn -B -ntp verify 2>&1 | tee "$build_log") || return 1
  if grep -n '^\[WARNING\]' "$build_log" >&2; then
    log "the exporter build printed the warnings above"
    return 1
  fi
}
suite_contract() { run_pytest contract scripts/tests/test_metric_contract.py; }
suite_docs() { run_pytest docs scripts/tests/test_run_without_docker.py; }
# Alerting: promtool and amtool check the configs and run the rule unit tests (their own output), then
# pytest runs prometheus/tests and alertmanager/tests (rule conventions, the render tool, routes, and live
# Prometheus/Alertmanager processes).
suite_alerting() {
  (cd "$REPO" &&
    promtool check config prometheus/prometheus.yml &&
    promtool check rules prometheus/rules/*.yml &&
    promtool test rules prometheus/tests/*-test.yaml &&
    amtool check-config alertmanager/alertmanager.yml alertmanager/demo/alertmanager.yml &&
    shellcheck alertmanager/sink-config.sh) &&
    run_pytest alerting prometheus/tests alertmanager/tests
}
suite_runbooks() { "$REPO/runbooks/test/run.sh"; }
# The dashboards: Grafana's published types (npm @grafana/schema at the pinned Grafana's version,
# from grafana/schema-check/package-lock.json) and the project's own checks.
suite_grafana() {
  (cd "$REPO/grafana/schema-check" && npm ci --no-audit --no-fund --loglevel=error) &&
    run_pytest grafana grafana/test --ignore=grafana/test/live
}
# The read-only database roles, logged in as each on the throwaway PostgreSQL.
suite_roles() { run_pytest roles exporter/sql/tests; }
# The compose stack, statically (no Docker engine): demo/compose/tests.
suite_stack() { run_pytest stack demo/compose/tests; }
suite_e2e() { run_pytest e2e e2e; }
# The mixin and deploy/: drift against a fresh render, kubernetes-models schemas (npm, pinned by the
# lockfile), promtool on the rendered PrometheusRule, policies, kubectl kustomize when kubectl is present.
suite_kubernetes() {
  command -v npm >/dev/null || { log "kubernetes: npm is missing (it comes with nodejs)"; return 1; }
  (cd "$REPO/deploy/kubernetes/tests" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) &&
    run_pytest kubernetes mixin/tests deploy/kubernetes/tests
}
# Two Prometheus replicas and two clustered Alertmanagers on loopback (deploy/ha/tests); -s prints the timeline.
suite_ha() { run_pytest ha -s deploy/ha/tests; }
# The bench's arithmetic, validity checks and report, from a fixture run (not the benchmark itself).
suite_bench() { run_pytest bench bench/tests; }

main() {
  local suites=("$@") suite
  ((${#suites[@]})) || suites=("${ALL_SUITES[@]}")
  for suite in "${suites[@]}"; do
    if ! declare -F "suite_$suite" >/dev/null; then
      echo "scripts/test.sh: unknown suite '$suite' (suites: ${ALL_SUITES[*]})" >&2
      exit 2
    fi
  done
  install_prerequisites
  trap cleanup EXIT
  # Interrupted or stopped: exit, so that the EXIT trap stops the throwaway PostgreSQL too.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  start_database
  local passed=0 failed=0 failures=() started
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
