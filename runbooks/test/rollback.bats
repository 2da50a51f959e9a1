#!/usr/bin/env bats
# rollback.sh against the fake Vercel API and health endpoint.

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
}

@test "rollback: promotes the previous READY production deployment, skipping ERROR and preview ones" {
  fake_control '{"health_by_deployment": {"dpl_current": "unhealthy"}}'
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "rolling back from dpl_current to dpl_previous" "verified"
  [ "$(mutating_requests)" = 1 ]
  [ "$(the_mutation | jq -r '.method + " " + .path')" = "POST /v10/projects/prj_opswatch/promote/dpl_previous" ]
  # The list was asked for production deployments of the project, with the token.
  [ "$(requests '.path == "/v6/deployments" and .query.projectId == "prj_opswatch" and .query.target == "production" and .auth == "ok"')" = 1 ]
  # It waited until the promoted deployment served production (the fake switches on the 2nd read after).
  [ "$(requests '.path == "/v9/projects/prj_opswatch"')" -ge 3 ]
  assert_output_has "dpl_previous serves production"
  assert_no_secrets
}

@test "rollback: run again, it goes back one more deployment (it reads what serves, not the newest)" {
  run_runbook rollback.sh --yes
  assert_status 0
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "rolling back from dpl_previous to dpl_older"
  [ "$(jq -sr '[.[] | select(.method == "POST") | .path] | join(" ")' "$FAKE_DIR/requests.jsonl")" = \
    "/v10/projects/prj_opswatch/promote/dpl_previous /v10/projects/prj_opswatch/promote/dpl_older" ]
}

@test "rollback: a promotion that never takes effect exits 1" {
  fake_control '{"promote_delay": -1}'
  run_runbook rollback.sh --yes --promote-timeout "$SHORT"
  assert_status 1
  assert_output_has "dpl_previous does not serve production after ${SHORT}s (still dpl_current)"
  [ "$(requests '.path == "/api/health"')" = 0 ]
}

@test "rollback: --to promotes the given deployment" {
  run_runbook rollback.sh --to dpl_older --yes
  assert_status 0
  [ "$(the_mutation | jq -r .path)" = "/v10/projects/prj_opswatch/promote/dpl_older" ]
}

@test "rollback: --to a deployment outside the recent list is looked up before promoting" {
  fake_control '{"deployments": [
    {"uid": "dpl_current", "state": "READY", "created": 3000, "target": "production"},
    {"uid": "dpl_previous", "state": "READY", "created": 2000, "target": "production"},
    {"uid": "dpl_ancient", "state": "READY", "created": 1000, "target": "production"}]}'
  OPSWATCH_DEPLOYMENT_LIMIT=2 run_runbook rollback.sh --yes --to=dpl_ancient
  assert_status 0
  [ "$(requests '.method == "GET" and .path == "/v13/deployments/dpl_ancient"')" = 1 ]
  [ "$(the_mutation | jq -r .path)" = "/v10/projects/prj_opswatch/promote/dpl_ancient" ]
}

@test "rollback: refuses --to an unknown, failed or current deployment (exit 2, nothing promoted)" {
  run_runbook rollback.sh --yes --to dpl_nope
  assert_status 2
  assert_output_has "not found"
  run_runbook rollback.sh --yes --to dpl_failed
  assert_status 2
  assert_output_has "dpl_failed is ERROR, not READY"
  run_runbook rollback.sh --yes --to dpl_current
  assert_status 2
  assert_output_has "serving production now"
  [ "$(mutating_requests)" = 0 ]
}

@test "rollback: refuses when there is no earlier READY deployment (exit 2, nothing promoted)" {
  fake_control '{"deployments": [
    {"uid": "dpl_only", "state": "READY", "created": 3000, "target": "production"},
    {"uid": "dpl_broken", "state": "ERROR", "created": 2000, "target": "production"},
    {"uid": "dpl_pre", "state": "READY", "created": 1000, "target": null}]}'
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "no earlier READY production deployment to roll back to" "Nothing was changed"
  [ "$(mutating_requests)" = 0 ]
  fake_control '{"deployments": []}'
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "project prj_opswatch has no production deployment"
  [ "$(mutating_requests)" = 0 ]
}

@test "rollback: exits 1 when the app is unhealthy after the promotion" {
  fake_control '{"health_by_deployment": {"dpl_previous": "unhealthy"}}'
  run_runbook rollback.sh --yes --timeout "$SHORT"
  assert_status 1
  assert_output_has "app health not verified: still unhealthy" "escalate"
  [ "$(mutating_requests)" = 1 ]
}

@test "rollback: reads the JSON status, not just the HTTP code (200 + unhealthy, 200 + HTML fail)" {
  fake_control '{"health": "unhealthy-200"}'
  run_runbook rollback.sh --yes --timeout "$SHORT"
  assert_status 1
  assert_output_has "health: unhealthy (HTTP 200"
  fake_control '{"reset": true, "health": "garbage"}'
  run_runbook rollback.sh --yes --timeout "$SHORT"
  assert_status 1
  assert_output_has "bad-answer (HTTP 200, no health status in the body)"
  fake_control '{"reset": true, "health": "healthy-503"}'
  run_runbook rollback.sh --yes --timeout "$SHORT"
  assert_status 1
}

@test "rollback: degraded passes with a warning, fails with --require-healthy" {
  fake_control '{"health": "degraded"}'
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "degraded" "ai_provider=warn"
  fake_control '{"reset": true, "health": "degraded"}'
  run_runbook rollback.sh --require-healthy --yes --timeout "$SHORT"
  assert_status 1
}

@test "rollback: health is polled until it recovers, not checked once after a sleep" {
  fake_control '{"health_sequence": ["unhealthy", "down", "unhealthy", "healthy"]}'
  run_runbook rollback.sh --yes
  assert_status 0
  [ "$(requests '.path == "/api/health"')" = 4 ]
}

@test "rollback: a failed promotion exits 1; a rejected token exits 2" {
  fake_control '{"fail": {"promote": 500}}'
  run_runbook rollback.sh --yes
  assert_status 1
  assert_output_has "promoting dpl_previous failed: HTTP 500"
  VERCEL_TOKEN=wrong_token run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "HTTP 403"
}

@test "rollback: dry-run without any token sends no request at all" {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID
  run_runbook rollback.sh --dry-run
  assert_status 0
  assert_output_has "[dry-run] would run: curl" "/promote/" "Authorization: Bearer ***" "nothing was changed"
  [ "$(requests)" = 0 ]
}

@test "rollback: dry-run with a token only reads, and names the deployment it would promote" {
  run_runbook rollback.sh --dry-run --yes
  assert_status 0
  assert_output_has "rolling back from dpl_current to dpl_previous" "/promote/dpl_previous"
  [ "$(requests)" -ge 1 ]
  [ "$(mutating_requests)" = 0 ]
  [ "$(requests '.path == "/api/health"')" = 0 ]
}

@test "rollback: a missing token or project id exits 2 with a clear message" {
  unset VERCEL_TOKEN
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "VERCEL_TOKEN not set"
  export VERCEL_TOKEN="$TOKEN"
  unset VERCEL_PROJECT_ID
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "VERCEL_PROJECT_ID not set"
  [ "$(requests)" = 0 ]
}

@test "rollback: sends teamId on every Vercel API call" {
  fake_control '{"team": "team_ops"}'
  export VERCEL_TEAM_ID=team_ops
  run_runbook rollback.sh --yes
  assert_status 0
  local calls
  calls=$(requests '.path | startswith("/v")')
  [ "$calls" -ge 4 ]
  [ "$(requests '(.path | startswith("/v")) and .query.teamId == "team_ops"')" = "$calls" ]
}

@test "rollback: the token appears nowhere, not even under bash -x, nor in the audit log" {
  export OPSWATCH_AUDIT_LOG="$BATS_TEST_TMPDIR/audit.log"
  run bash -x "$RUNBOOKS/rollback.sh" --yes </dev/null
  assert_status 0
  [ "$(requests '.auth == "ok"')" -ge 4 ] # the token did reach the API
  assert_no_secrets "$OPSWATCH_AUDIT_LOG"
  grep -q 'action=promote from=dpl_current to=dpl_previous http=201' "$OPSWATCH_AUDIT_LOG"
  grep -q 'verify=health result=healthy' "$OPSWATCH_AUDIT_LOG"
  grep -q 'end exit=0' "$OPSWATCH_AUDIT_LOG"
}
