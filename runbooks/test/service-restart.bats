#!/usr/bin/env bats
# service-restart.sh against the fake Vercel API, health endpoint and Prometheus alerts API.

load helpers

setup_file() {
  fake_start
}

teardown_file() {
  fake_stop
}

setup() {
  base_env
  fake_reset
  export PROMETHEUS_URL="$FAKE_URL"
}

@test "service-restart: redeploys, waits for READY, verifies health and waits for the alerts to clear" {
  fake_control '{"alerts": ["AppHealthProbeFailing", "AppHealthDegraded"], "alerts_clear_after": 3}'
  run_runbook service-restart.sh --yes
  assert_status 0
  assert_output_has "alerts: AppHealthDegraded (firing), AppHealthProbeFailing (firing)" \
    "alerts: none of them active" "restarted: dpl_new1"
  [ "$(the_mutation | jq -r '.path + " " + .body.deploymentId')" = "/v13/deployments dpl_current" ]
  [ "$(requests '.path == "/api/v1/alerts"')" = 4 ]
}

@test "service-restart: after a rollback it redeploys the deployment that serves, not the newest" {
  fake_control '{"current": "dpl_previous"}'
  run_runbook service-restart.sh --yes
  assert_status 0
  [ "$(the_mutation | jq -r .body.deploymentId)" = dpl_previous ]
}

@test "service-restart: exits 1 when an alert keeps firing" {
  fake_control '{"alerts": ["AppHealthProbeFailing"]}'
  run_runbook service-restart.sh --yes --alerts-timeout "$SHORT"
  assert_status 1
  assert_output_has "error rate not recovered: still active after ${SHORT}s: AppHealthProbeFailing (firing)"
}

@test "service-restart: the alert list is configurable" {
  fake_control '{"alerts": ["AppHealthDegraded"]}'
  run_runbook service-restart.sh --yes --alerts AppHealthProbeFailing
  assert_status 0
  # The fake always fires SomethingElse.
  OPSWATCH_RECOVERY_ALERTS=SomethingElse run_runbook service-restart.sh --yes --alerts-timeout "$SHORT"
  assert_status 1
  run_runbook service-restart.sh --yes --alerts 'not a name'
  assert_status 2
}

@test "service-restart: without PROMETHEUS_URL the alert check is skipped, and said so" {
  unset PROMETHEUS_URL
  run_runbook service-restart.sh --yes
  assert_status 0
  assert_output_has "PROMETHEUS_URL is not set: error-rate recovery not checked"
  [ "$(requests '.path == "/api/v1/alerts"')" = 0 ]
}

@test "service-restart: exits 1 when the app is unhealthy after the restart (alerts not asked)" {
  fake_control '{"health": "unhealthy"}'
  run_runbook service-restart.sh --yes --timeout "$SHORT"
  assert_status 1
  assert_output_has "app health not verified: still unhealthy"
  [ "$(requests '.path == "/api/v1/alerts"')" = 0 ]
}

@test "service-restart: a deployment that never becomes READY times out with exit 1" {
  fake_control '{"build": "stay"}'
  run_runbook service-restart.sh --build-timeout="$SHORT" --yes
  assert_status 1
  assert_output_has "not READY after ${SHORT}s"
}

@test "service-restart: dry-run sends no mutating request and does not wait" {
  run_runbook service-restart.sh --dry-run
  assert_status 0
  assert_output_has "[dry-run] would run: curl" "/api/v1/alerts" "until none of"
  [ "$(mutating_requests)" = 0 ]
  [ "$(requests '.path == "/api/v1/alerts" or .path == "/api/health"')" = 0 ]
}

@test "service-restart: the token appears nowhere, not even under bash -x" {
  run bash -x "$RUNBOOKS/service-restart.sh" --yes </dev/null
  assert_status 0
  assert_no_secrets
}
