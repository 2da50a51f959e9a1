#!/usr/bin/env bash
# Tests alertmanager/: the config is valid, each severity reaches its receiver (amtool config routes test),
# and, with the real Alertmanager on a loopback port, the inhibitions hold and notifications reach a local
# sink with value, runbook and dashboard (alertmanager/tests/live_test.py).
#
#   alertmanager/test.sh          (from anywhere; needs amtool, alertmanager 0.25+, python3)
#
# Ends with "alerting: N passed, M failed"; exits 1 if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CONFIG=alertmanager/alertmanager.yml
passed=0
failed=0

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

not() { ! "$@"; }

# route WANT LABEL=VALUE...: the labels resolve to exactly the receiver WANT.
route() {
  local want="$1"
  shift
  check "route: {$*} -> $want" \
    amtool config routes test --config.file="$CONFIG" --verify.receivers="$want" "$@"
}

# The compose demo's config (every receiver to webhook-sink) is generated; it must not drift.
demo_is_current() {
  local tmp rc=0
  tmp="$(mktemp -d)"
  alertmanager/sink-config.sh --sink http://webhook-sink:8080 --out "$tmp" \
    --secrets-dir /etc/alertmanager/secrets >/dev/null || rc=$?
  if [[ "$rc" -eq 0 ]]; then
    diff -r alertmanager/demo "$tmp" || rc=$?
  fi
  rm -rf "$tmp"
  if [[ "$rc" -ne 0 ]]; then
    echo "regenerate: alertmanager/sink-config.sh --sink http://webhook-sink:8080 --out alertmanager/demo --secrets-dir /etc/alertmanager/secrets"
  fi
  return "$rc"
}

find_alertmanager() {
  local bin
  for bin in "${ALERTMANAGER_BIN:-}" alertmanager prometheus-alertmanager; do
    [[ -n "$bin" ]] && command -v "$bin" && return 0
  done
  return 1
}

main() {
  check "amtool check-config $CONFIG" amtool check-config "$CONFIG"
  check "amtool check-config alertmanager/demo/alertmanager.yml" amtool check-config alertmanager/demo/alertmanager.yml
  check "alertmanager/demo/ is what sink-config.sh makes of alertmanager.yml today" demo_is_current
  check "shellcheck alertmanager/*.sh" shellcheck alertmanager/sink-config.sh alertmanager/test.sh

  route pager alertname=BudgetExceeded severity=critical provider=vercel
  route pager alertname=QuotaExhausted severity=critical provider=azure_openai quota=chat_tokens_per_minute
  route pager alertname=IncidentCriticalSafety severity=critical
  route pager alertname=OpswatchExporterDown severity=critical
  route chat alertname=BudgetSpendWarning severity=warning provider=total
  route chat alertname=QuotaWarning severity=warning provider=google_drive quota=queries_per_day
  route chat alertname=OpswatchSourceStale severity=warning source=costs
  route null alertname=SomethingForTheRecord severity=info
  route deadmans-switch alertname=OpswatchHeartbeat severity=info
  # No or an unknown severity still reaches a human.
  route chat alertname=SomethingUnlabelled
  route chat alertname=SomethingOdd severity=page
  check "route: a critical alert does not (also) go to chat" \
    not amtool config routes test --config.file="$CONFIG" --verify.receivers=chat severity=critical alertname=BudgetExceeded
  check "route: the heartbeat does not page" \
    not amtool config routes test --config.file="$CONFIG" --verify.receivers=pager alertname=OpswatchHeartbeat severity=critical

  # Secrets come from files under /etc/alertmanager/secrets, never inline.
  check "receivers read their secrets from files" grep -q 'routing_key_file: /etc/alertmanager/secrets/pager_routing_key' "$CONFIG"
  check "no inline secret (routing_key, api_url, service_key)" \
    not grep -Eq '^\s*(routing_key|service_key|api_url)\s*:' "$CONFIG"

  local am_bin live_out live_rc live_failed
  if am_bin="$(find_alertmanager)"; then
    # One "ok"/"FAIL" line per check from the live test; counted here.
    live_out="$(python3 alertmanager/tests/live_test.py --alertmanager "$am_bin" 2>&1)" && live_rc=0 || live_rc=$?
    printf '%s\n' "$live_out"
    live_failed="$(grep -c '^FAIL ' <<<"$live_out" || true)"
    passed=$((passed + $(grep -c '^ok ' <<<"$live_out" || true)))
    failed=$((failed + live_failed))
    if [[ "$live_rc" -ne 0 && "$live_failed" -eq 0 ]]; then
      fail "live Alertmanager test exited with status $live_rc"
    fi
  else
    fail "alertmanager binary found (install prometheus-alertmanager or set ALERTMANAGER_BIN)"
  fi

  echo "alerting: $passed passed, $failed failed"
  [[ "$failed" -eq 0 ]]
}

main "$@"
