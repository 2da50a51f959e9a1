#!/usr/bin/env bash
# Tests prometheus/: the config and rules are valid (promtool check), every alert behaves as its tests
# say (promtool test rules, prometheus/tests/*-test.yaml), and the rules Prometheus really loads carry
# severity, summary, description, value, runbook_url and dashboard_url, with a runbook page for each
# (prometheus/tests/check_alerts.py against a throwaway Prometheus on a loopback port).
#
#   prometheus/test.sh          (from anywhere; needs promtool, prometheus 2.42+, python3)
#
# Ends with "alerting: N passed, M failed"; exits 1 if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
passed=0
failed=0
work=""
prom_pid=""

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# check NAME CMD...: one check, passed when CMD exits 0; its output is shown on failure.
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    pass "$name"
  else
    fail "$name"
    printf '%s\n' "$out" | sed 's/^/     /'
  fi
}

cleanup() {
  if [[ -n "$prom_pid" ]]; then
    kill "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
  fi
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts Prometheus with prometheus/prometheus.yml (its scrape and Alertmanager targets do not resolve
# here, which only logs errors) and runs check_alerts.py against the rules it loaded.
check_loaded_rules() {
  local port out rc=0 i
  work="$(mktemp -d)"
  port="$(free_port)"
  prometheus --config.file=prometheus/prometheus.yml --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$port" --log.level=error >"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  for i in $(seq 1 100); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
      "http://127.0.0.1:$port/-/ready" 2>/dev/null; then
      break
    fi
    if ((i == 100)) || ! kill -0 "$prom_pid" 2>/dev/null; then
      fail "Prometheus starts with prometheus/prometheus.yml"
      sed 's/^/     /' "$work/prometheus.log"
      return
    fi
    sleep 0.2
  done
  pass "Prometheus starts with prometheus/prometheus.yml"

  out="$(python3 prometheus/tests/check_alerts.py --prometheus "http://127.0.0.1:$port" --repo .)" || rc=$?
  printf '%s\n' "$out"
  passed=$((passed + $(grep -c '^ok ' <<<"$out" || true)))
  failed=$((failed + $(grep -c '^FAIL ' <<<"$out" || true)))
  if [[ "$rc" -ne 0 ]] && ! grep -q '^FAIL ' <<<"$out"; then
    fail "check_alerts.py exited with status $rc"
  fi
}

main() {
  local test_file
  check "promtool check config prometheus/prometheus.yml" promtool check config prometheus/prometheus.yml
  check "promtool check rules prometheus/rules/*.yml" promtool check rules prometheus/rules/*.yml
  for test_file in prometheus/tests/*-test.yaml; do
    check "promtool test rules $test_file" promtool test rules "$test_file"
  done
  check "shellcheck prometheus/test.sh" shellcheck prometheus/test.sh
  if command -v prometheus >/dev/null; then
    check_loaded_rules
  else
    fail "prometheus binary found (apt-get install prometheus)"
  fi

  echo "alerting: $passed passed, $failed failed"
  [[ "$failed" -eq 0 ]]
}

main "$@"
