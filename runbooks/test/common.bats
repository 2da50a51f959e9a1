#!/usr/bin/env bats
# What all four runbooks share: help, flags, consent, exit codes, colour.

load helpers

@test "all: --help documents the flags and exit codes and exits 0" {
  local script
  for script in db-failover.sh cache-flush.sh service-restart.sh rollback.sh; do
    run_runbook "$script" --yes --help
    assert_status 0
    assert_output_has "Usage: $script" "--dry-run" "--yes" "Exit codes:" "3  a required tool is missing"
  done
  run_runbook db-failover.sh --help
  assert_output_has "4  the pooler path (DATABASE_URL) fails although the app is verified healthy" \
    "IPv6" "tenant or user not found" "Supavisor session mode"
  run_runbook rollback.sh --help
  assert_output_has "--undo" "isRollbackCandidate" "automatic assignment of production" "202"
  run_runbook cache-flush.sh --help
  assert_output_has "--purge-cache" "Data Cache" "--no-cancel" "will still go live"
  run_runbook service-restart.sh --help
  assert_output_has "--no-cancel" "cancelled" "GRAFANA_URL"
  [ "$(requests)" = 0 ]
}

@test "all: an option value starting with '-' is refused, so --audit-log --dry-run can never run live" {
  cd "$BATS_TEST_TMPDIR"
  run_runbook cache-flush.sh --yes --audit-log --dry-run
  assert_status 2
  assert_output_has "--audit-log needs a value, got '--dry-run', which looks like an option"
  [ ! -e ./--dry-run ]
  local script option
  for script in db-failover.sh cache-flush.sh service-restart.sh rollback.sh; do
    for option in --audit-log --timeout --interval; do
      run_runbook "$script" --yes "$option" --dry-run
      assert_status 2
      run_runbook "$script" --yes "$option=-1"
      assert_status 2
      assert_output_has "values may not start with '-'"
    done
  done
  for option in --build-timeout --promote-timeout; do
    run_runbook rollback.sh --yes "$option" -5
    assert_status 2
  done
  run_runbook rollback.sh --yes --to --dry-run
  assert_status 2
  run_runbook service-restart.sh --yes --alerts --dry-run
  assert_status 2
  run_runbook service-restart.sh --yes --alerts-timeout -1
  assert_status 2
  run_runbook cache-flush.sh --yes --purge-cache --dry-run
  assert_status 2
  run_runbook cache-flush.sh --yes --build-timeout --dry-run
  assert_status 2
  [ "$(requests)" = 0 ]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR")" ]
}

@test "all: URLs are printed with userinfo and query values masked, also in errors; malformed ones never" {
  export PRODUCTION_URL="http://ops:$PASSWORD@${FAKE_URL#http://}" PROMETHEUS_URL="$FAKE_URL/?token=$PASSWORD&limit=5"
  run_runbook rollback.sh --dry-run
  assert_status 0
  assert_output_has "http://***@${FAKE_URL#http://}/api/health"
  assert_no_secrets
  run_runbook service-restart.sh --dry-run
  assert_status 0
  assert_output_has "$FAKE_URL/?token=***&limit=5/api/v1/alerts"
  assert_no_secrets
  run bash -x "$RUNBOOKS/rollback.sh" --yes </dev/null
  assert_status 0
  assert_output_has "WARN PRODUCTION_URL has userinfo or a query (it may hold a credential): bash -x tracing is off"
  assert_no_secrets
  local bad
  for bad in "postgresql:/u:$PASSWORD@h/db" "htp://u:$PASSWORD@h" "u:$PASSWORD@h" "http://u:$PASSWORD@h/a b"; do
    PRODUCTION_URL=$bad run_runbook cache-flush.sh --dry-run
    assert_status 2
    assert_output_has "PRODUCTION_URL must be an http(s) URL"
    assert_no_secrets
    PROMETHEUS_URL=$bad run_runbook service-restart.sh --dry-run
    assert_status 2
    assert_no_secrets
    GRAFANA_URL=$bad GRAFANA_TOKEN=$GRAFANA_SECRET run_runbook rollback.sh --dry-run
    assert_status 2
    assert_no_secrets
  done
}

@test "all: an unknown option, a stray argument or a bad value exits 2" {
  local script
  for script in db-failover.sh cache-flush.sh service-restart.sh rollback.sh; do
    run_runbook "$script" --dry-run --frobnicate
    assert_status 2
    assert_output_has "unknown option: --frobnicate" "--help"
    run_runbook "$script" now
    assert_status 2
    run_runbook "$script" --dry-run --timeout soon
    assert_status 2
    assert_output_has "--timeout must be a positive number of seconds"
    run_runbook "$script" --dry-run --interval
    assert_status 2
    assert_output_has "--interval needs a value"
  done
  OPSWATCH_POLL_INTERVAL=0 run_runbook rollback.sh --dry-run
  assert_status 2
  [ "$(requests)" = 0 ]
}

@test "all: flags work in any order and in both --flag VALUE and --flag=VALUE forms" {
  run_runbook cache-flush.sh --build-timeout=10 --yes --timeout 10
  assert_status 0
  run_runbook rollback.sh --timeout 10 --yes --interval=0.05 --to dpl_older
  assert_status 0
  run_runbook rollback.sh --to=dpl_previous --interval 0.05 --timeout=10 --yes
  assert_status 0
  run_runbook service-restart.sh --alerts-timeout 1 --yes --build-timeout 2 --dry-run
  assert_status 0
  # Two rollbacks, one redeploy; the dry-run changed nothing.
  [ "$(mutating_requests)" = 3 ]
}

@test "all: without --yes and without a terminal, production changes are refused (exit 2)" {
  local script
  for script in cache-flush.sh service-restart.sh rollback.sh; do
    run_runbook "$script"
    assert_status 2
    assert_output_has "stdin is not a terminal: pass --yes"
  done
  [ "$(requests)" = 0 ]
}

@test "all: on a terminal, the change waits for a typed yes; anything else changes nothing" {
  command -v script >/dev/null || skip "script(1) not installed"
  run bash -c "printf 'n\n' | script -qec 'bash $RUNBOOKS/rollback.sh' /dev/null"
  assert_status 2
  assert_output_has "Roll production back from dpl_current to dpl_previous? (automatic production deployments stay off until a promote) [y/N]" \
    "not confirmed"
  # The mutating call is printed only after the confirmation.
  [[ $output != *"--request POST"* ]]
  [ "$(mutating_requests)" = 0 ]
  run bash -c "printf 'yes\n' | script -qec 'bash $RUNBOOKS/rollback.sh' /dev/null"
  assert_status 0
  [ "$(mutating_requests)" = 1 ]
  [[ ${output%%--request POST*} == *"[y/N]"* ]]
}

@test "all: colour only on a terminal, and never with NO_COLOR" {
  command -v script >/dev/null || skip "script(1) not installed"
  local esc=$'\e['
  run_runbook rollback.sh --dry-run
  [[ $output != *"$esc"* ]]
  run script -qec "bash $RUNBOOKS/rollback.sh --dry-run" /dev/null
  assert_status 0
  [[ $output == *"$esc"* ]]
  NO_COLOR=1 run script -qec "bash $RUNBOOKS/rollback.sh --dry-run" /dev/null
  assert_status 0
  [[ $output != *"$esc"* ]]
}

@test "all: a missing curl or jq exits 3" {
  local script
  for script in cache-flush.sh service-restart.sh rollback.sh; do
    PATH="$(path_without curl)" run_runbook "$script" --yes
    assert_status 3
    assert_output_has "required tool(s) not found on PATH: curl"
  done
  PATH="$(path_without jq)" run_runbook rollback.sh --dry-run
  assert_status 3
  assert_output_has "not found on PATH: jq"
  DATABASE_URL=postgresql://u@127.0.0.1:1/db DIRECT_URL=postgresql://u@127.0.0.1:2/db \
    PATH="$(path_without curl)" run_runbook db-failover.sh
  assert_status 3
  [ "$(requests)" = 0 ]
}

@test "all: dry-run without credentials needs neither curl nor jq" {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID PRODUCTION_URL
  local script
  for script in cache-flush.sh service-restart.sh rollback.sh; do
    PATH="$(path_without curl)" run_runbook "$script" --dry-run
    assert_status 0
  done
}

@test "all: the audit log records the run without secrets" {
  export OPSWATCH_AUDIT_LOG="$BATS_TEST_TMPDIR/audit.log"
  run_runbook cache-flush.sh --yes
  assert_status 0
  run_runbook rollback.sh --dry-run --audit-log "$BATS_TEST_TMPDIR/other.log"
  assert_status 0
  grep -q 'cache-flush.sh user=.* mode=live start args=--yes' "$OPSWATCH_AUDIT_LOG"
  grep -q 'action=redeploy source=dpl_current new=dpl_new1 run=ow-.* http=200' "$OPSWATCH_AUDIT_LOG"
  grep -q 'wait=ready deployment=dpl_new1 result=READY' "$OPSWATCH_AUDIT_LOG"
  grep -q 'cache-flush.sh .* end exit=0' "$OPSWATCH_AUDIT_LOG"
  grep -q 'rollback.sh .* mode=dry-run start' "$BATS_TEST_TMPDIR/other.log"
  assert_no_secrets "$OPSWATCH_AUDIT_LOG" "$BATS_TEST_TMPDIR/other.log"
}
