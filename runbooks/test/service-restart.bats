#!/usr/bin/env bats
# service-restart.sh against the fake Vercel API, health endpoint and Prometheus alerts API.

load helpers

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

@test "service-restart: a build that never finishes is cancelled (it would go live later), exit 1" {
  fake_control '{"build": "stay"}'
  grafana_on
  run_runbook service-restart.sh --build-timeout="$SHORT" --yes
  assert_status 1
  assert_output_has "not READY after ${SHORT}s" "Left alone, Vercel finishes the build and it then takes over production" \
    "cancelled dpl_new1: it will not go live; production still serves dpl_current"
  [ "$(requests '.method == "PATCH" and .path == "/v12/deployments/dpl_new1/cancel"')" = 1 ]
  [ "$(curl -s "$FAKE_URL/v13/deployments/dpl_new1" -H "Authorization: Bearer $TOKEN" | jq -r .readyState)" = CANCELED ]
  [ "$(annotations | jq length)" = 0 ] # production did not change
  [ "$(requests '.path == "/api/health"')" = 0 ]
}

@test "service-restart: --no-cancel leaves the build running and says plainly that it will still go live" {
  fake_control '{"build": "stay"}'
  run_runbook service-restart.sh --build-timeout="$SHORT" --yes --no-cancel
  assert_status 1
  assert_output_has "dpl_new1 was NOT cancelled: it WILL STILL GO LIVE when its build finishes"
  [ "$(requests '.method == "PATCH"')" = 0 ]
}

@test "service-restart: a re-run waits for the redeploy an earlier run left building, never a second one" {
  fake_control '{"build": "stay"}'
  run_runbook service-restart.sh --build-timeout="$SHORT" --yes --no-cancel
  assert_status 1
  fake_control '{"progress": {"dpl_new1": ["BUILDING", "READY"]}}'
  run_runbook service-restart.sh --yes
  assert_status 0
  assert_output_has "a redeploy of dpl_current started by an earlier run is still BUILDING: dpl_new1" \
    "Waiting for it instead of creating a second deployment" "restarted: dpl_new1"
  [ "$(requests '.method == "POST" and .path == "/v13/deployments"')" = 1 ]
}

@test "service-restart: a create POST answered after the HTTP timeout is looked up, not repeated" {
  fake_control '{"create_delay": 2}'
  OPSWATCH_HTTP_TIMEOUT=0.5 run_runbook service-restart.sh --yes
  assert_status 0
  assert_output_has "the redeploy request got HTTP 000 (no answer within 0.5s): looking up whether Vercel created it" \
    "found it: Vercel created dpl_new1 (the answer came too late)" "restarted: dpl_new1"
  [ "$(requests '.method == "POST" and .path == "/v13/deployments"')" = 1 ]
  [ "$(the_mutation | jq -r '.body.meta.opswatchRun | startswith("ow-")')" = true ]
}

@test "service-restart: a lost create request is reported only after the look-up found nothing" {
  fake_control '{"create_drop": true, "create_delay": 1}'
  OPSWATCH_HTTP_TIMEOUT=0.5 OPSWATCH_CREATE_LOOKUP_TIMEOUT=1 run_runbook service-restart.sh --yes
  assert_status 1
  assert_output_has "Vercel has not created a deployment for this request (looked for 1s)" \
    "a re-run of this script waits for it instead of creating a second one"
  [ "$(requests '.method == "POST" and .path == "/v13/deployments"')" = 1 ]
  [ "$(requests '.path == "/v6/deployments"')" -ge 2 ]
}

@test "service-restart: an aliasError on the new deployment fails at once" {
  fake_control '{"alias_error": "The domain app.example.com could not be assigned"}'
  SECONDS=0
  run_runbook service-restart.sh --yes --promote-timeout 30
  assert_status 1
  ((SECONDS < 20))
  assert_output_has "dpl_new1 is READY but Vercel could not assign the production domains" \
    "could not be assigned" "production still serves dpl_current"
}

@test "service-restart: annotates the redeploy in Grafana (what, who, from which to which)" {
  grafana_on
  run_runbook service-restart.sh --yes
  assert_status 0
  [ "$(annotations | jq length)" = 1 ]
  run annotations
  [ "$(jq -c '.[0].body.tags' <<<"$output")" = '["deploy","opswatch","redeploy"]' ]
  [[ $(jq -r '.[0].body.text' <<<"$output") == "redeploy of opswatch-app by "*"(service-restart.sh): production dpl_current -> dpl_new1" ]]
  [ "$(jq -r '.[0].auth' <<<"$output")" = ok ]
  [[ $(jq -r '.[0].body.time' <<<"$output") =~ ^1[0-9]{12}$ ]]
}

@test "service-restart: dry-run sends no mutating request and does not wait" {
  run_runbook service-restart.sh --dry-run
  assert_status 0
  assert_output_has "[dry-run] would run: curl" "/api/v1/alerts" "until none of"
  [ "$(mutating_requests)" = 0 ]
  [ "$(requests '.path == "/api/v1/alerts" or .path == "/api/health"')" = 0 ]
}

@test "service-restart: the tokens appear nowhere, not even under bash -x" {
  grafana_on
  run bash -x "$RUNBOOKS/service-restart.sh" --yes </dev/null
  assert_status 0
  [ "$(annotations | jq length)" = 1 ]
  assert_no_secrets
}
