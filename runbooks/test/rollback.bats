#!/usr/bin/env bats
# rollback.sh against the fake Vercel API, health endpoint and Grafana annotations API.

load helpers

@test "rollback: Instant Rollback (not a promote) to the previous rollback candidate, {} body, alias job polled" {
  fake_control '{"health_by_deployment": {"dpl_current": "unhealthy"}}'
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "rolling back from dpl_current to dpl_previous" "rollback job: in-progress" \
    "rollback job succeeded: production serves dpl_previous" "verified"
  [ "$(mutating_requests)" = 1 ]
  run the_mutation
  [ "$(jq -r '.method + " " + .path' <<<"$output")" = "POST /v1/projects/prj_opswatch/rollback/dpl_previous" ]
  [ "$(jq -c .body <<<"$output")" = '{}' ]
  [[ $(jq -r .query.description <<<"$output") == "rollback.sh by "* ]]
  [ "$(requests '.path | test("/promote/")')" = 0 ]
  # The list was asked for production deployments of the project, with the token.
  [ "$(requests '.path == "/v6/deployments" and .query.projectId == "prj_opswatch" and .query.target == "production" and .auth == "ok"')" = 1 ]
  # The alias job was polled through the project's lastAliasRequest (rollbackInfo=true).
  [ "$(requests '.path == "/v9/projects/prj_opswatch" and .query.rollbackInfo == "true"')" -ge 4 ]
  assert_no_secrets
}

@test "rollback: says what it leaves behind (auto-assignment off) and how to undo it" {
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "Vercel turned off the automatic assignment of production domains" \
    "do NOT go live until a deployment is promoted" "runbooks/rollback.sh --undo" "vercel promote dpl_current"
  run_runbook rollback.sh --dry-run
  assert_output_has "What this rollback leaves behind" "--undo"
}

@test "rollback: skips READY production deployments that never served (isRollbackCandidate false)" {
  fake_control '{"deployments": [
    {"uid": "dpl_current", "state": "READY", "created": 4000, "target": "production"},
    {"uid": "dpl_staged", "state": "READY", "created": 3000, "target": "production", "never_served": true},
    {"uid": "dpl_good", "state": "READY", "created": 2000, "target": "production"}]}'
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "rolling back from dpl_current to dpl_good"
  [ "$(the_mutation | jq -r .path)" = "/v1/projects/prj_opswatch/rollback/dpl_good" ]
  run_runbook rollback.sh --yes --to dpl_staged
  assert_status 2
  assert_output_has "has never served production (isRollbackCandidate is false)" "--undo --to dpl_staged"
  [ "$(mutating_requests)" = 1 ]
}

@test "rollback: run again, it goes back one more deployment (it reads what serves, not the newest)" {
  run_runbook rollback.sh --yes
  assert_status 0
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "rolling back from dpl_previous to dpl_older" "production is an instant rollback"
  [ "$(jq -sr '[.[] | select(.method == "POST") | .path] | join(" ")' "$FAKE_DIR/requests.jsonl")" = \
    "/v1/projects/prj_opswatch/rollback/dpl_previous /v1/projects/prj_opswatch/rollback/dpl_older" ]
}

@test "rollback: a failed alias job fails at once (exit 1) and names the aliases not moved" {
  fake_control '{"alias_job": ["in-progress", "failed"]}'
  grafana_on
  SECONDS=0
  run_runbook rollback.sh --yes --promote-timeout 30
  assert_status 1
  ((SECONDS < 20))
  assert_output_has "the rollback job to dpl_previous ended 'failed'" "not moved: app.example.com (failed, still dpl_current)"
  [ "$(requests '.path == "/v9/projects/prj_opswatch/rollback/aliases" and .query.failedOnly == "true"')" = 1 ]
  [ "$(requests '.path == "/api/health"')" = 0 ]
  [[ $(annotations | jq -r '.[0].body.text') == *"dpl_current -> dpl_previous (FAILED: alias job failed)" ]]
}

@test "rollback: an alias job that never finishes exits 1 at --promote-timeout" {
  fake_control '{"alias_job": ["in-progress"]}'
  run_runbook rollback.sh --yes --promote-timeout "$SHORT"
  assert_status 1
  assert_output_has "the rollback job to dpl_previous has not finished after ${SHORT}s (rollback job: in-progress)"
  [ "$(requests '.path == "/api/health"')" = 0 ]
}

@test "rollback: a project name in VERCEL_PROJECT_ID is resolved once; every path uses the id" {
  export VERCEL_PROJECT_ID=opswatch-app
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "project opswatch-app is prj_opswatch"
  [ "$(requests '.path == "/v9/projects/opswatch-app"')" = 1 ]
  [ "$(requests '(.path | contains("opswatch-app")) and .path != "/v9/projects/opswatch-app"')" = 0 ]
  [ "$(the_mutation | jq -r .path)" = "/v1/projects/prj_opswatch/rollback/dpl_previous" ]
}

@test "rollback: --to rolls back to the given deployment" {
  run_runbook rollback.sh --to dpl_older --yes
  assert_status 0
  [ "$(the_mutation | jq -r .path)" = "/v1/projects/prj_opswatch/rollback/dpl_older" ]
}

@test "rollback: --to a deployment outside the recent list is looked up before rolling back" {
  fake_control '{"deployments": [
    {"uid": "dpl_current", "state": "READY", "created": 3000, "target": "production"},
    {"uid": "dpl_previous", "state": "READY", "created": 2000, "target": "production"},
    {"uid": "dpl_ancient", "state": "READY", "created": 1000, "target": "production"}]}'
  OPSWATCH_DEPLOYMENT_LIMIT=2 run_runbook rollback.sh --yes --to=dpl_ancient
  assert_status 0
  [ "$(requests '.method == "GET" and .path == "/v13/deployments/dpl_ancient"')" = 1 ]
  [ "$(the_mutation | jq -r .path)" = "/v1/projects/prj_opswatch/rollback/dpl_ancient" ]
}

@test "rollback: refuses --to an unknown, failed or current deployment (exit 2, nothing changed)" {
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

@test "rollback: refuses when there is no earlier rollback candidate (exit 2, nothing changed)" {
  fake_control '{"deployments": [
    {"uid": "dpl_only", "state": "READY", "created": 3000, "target": "production"},
    {"uid": "dpl_broken", "state": "ERROR", "created": 2000, "target": "production"},
    {"uid": "dpl_pre", "state": "READY", "created": 1000, "target": null}]}'
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "no earlier READY deployment that Vercel lists as a rollback candidate" "Nothing was changed"
  [ "$(mutating_requests)" = 0 ]
  fake_control '{"deployments": []}'
  run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "project prj_opswatch has no production deployment"
  [ "$(mutating_requests)" = 0 ]
}

@test "rollback --undo: promotes the deployment the rollback came from ({} body); auto-assignment is back" {
  run_runbook rollback.sh --yes
  assert_status 0
  grafana_on
  run_runbook rollback.sh --undo --yes
  assert_status 0
  assert_output_has "the last rollback went from dpl_current to dpl_previous" "promote job: succeeded" \
    "Vercel assigns new production deployments to the production domains automatically again" \
    "rollback ended: dpl_current serves production"
  run jq -sc '[.[] | select(.method == "POST" and (.path | startswith("/v")))] | .[1]' "$FAKE_DIR/requests.jsonl"
  [ "$(jq -r .path <<<"$output")" = "/v10/projects/prj_opswatch/promote/dpl_current" ]
  [ "$(jq -c .body <<<"$output")" = '{}' ]
  [ "$(annotations | jq -c '.[0].body.tags')" = '["deploy","opswatch","rollback-undo"]' ]
  # Auto-assignment is on again: a redeploy now takes over production.
  run_runbook service-restart.sh --yes
  assert_status 0
}

@test "rollback --undo: a 202 (queued) promotion is polled until its job succeeds" {
  run_runbook rollback.sh --yes
  fake_control '{"promote_status": 202, "alias_job": ["pending", "pending", "pending", "succeeded"]}'
  run_runbook rollback.sh --undo --yes
  assert_status 0
  assert_output_has "Vercel queued the promote (HTTP 202" "promote job: pending" "promote job: succeeded"
}

@test "rollback --undo: refuses when production is not rolled back (exit 2); --to promotes a chosen build" {
  run_runbook rollback.sh --undo --yes
  assert_status 2
  assert_output_has "production is not rolled back" "--undo --to ID"
  [ "$(mutating_requests)" = 0 ]
  fake_control '{"deployments": [
    {"uid": "dpl_current", "state": "READY", "created": 3000, "target": "production"},
    {"uid": "dpl_fixed", "state": "READY", "created": 4000, "target": "production", "never_served": true}],
    "current": "dpl_current"}'
  run_runbook rollback.sh --undo --to dpl_fixed --yes
  assert_status 0
  [ "$(the_mutation | jq -r .path)" = "/v10/projects/prj_opswatch/promote/dpl_fixed" ]
}

@test "rollback: exits 1 when the app is unhealthy after the rollback" {
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

@test "rollback: a refused rollback exits 1 and is not retried; a rejected token exits 2" {
  fake_control '{"fail": {"rollback": 500}}'
  run_runbook rollback.sh --yes
  assert_status 1
  assert_output_has "rollback to dpl_previous failed: HTTP 500"
  [ "$(requests '.method == "POST"')" = 1 ]
  VERCEL_TOKEN=wrong_token run_runbook rollback.sh --yes
  assert_status 2
  assert_output_has "HTTP 403"
}

@test "rollback: reads retry 429 after Retry-After and 5xx with backoff; the rollback POST is never retried" {
  fake_control '{"throttle": {"list": {"count": 1, "retry_after": "1"}, "project": {"count": 2, "status": 503}}}'
  run_runbook rollback.sh --yes
  assert_status 0
  assert_output_has "Vercel API answered HTTP 503" "retry 1 of 4" "retry 2 of 4" "HTTP 429" "in 1s (Retry-After)"
  # The second list request came at least Retry-After (1 s) after the first.
  run jq -s '[.[] | select(.path == "/v6/deployments") | .at] | .[1] - .[0]' "$FAKE_DIR/requests.jsonl"
  [[ $(jq -n "$output >= 1") == true ]]
  [ "$(requests '.path == "/v6/deployments"')" = 2 ]
  [ "$(requests '.method == "POST"')" = 1 ]
}

@test "rollback: a 429 while polling the alias job makes the next poll wait Retry-After, not the interval" {
  # Read 1 (find the project) passes, read 2 (the first poll) gets 429 with Retry-After: 1.
  fake_control '{"throttle": {"project": {"skip": 1, "count": 1, "retry_after": "1"}}}'
  run_runbook rollback.sh --yes
  assert_status 0
  run jq -s '[.[] | select(.path == "/v9/projects/prj_opswatch") | .at] | .[2] - .[1]' "$FAKE_DIR/requests.jsonl"
  [[ $(jq -n "$output >= 1") == true ]]
  [ "$(requests '.path == "/v9/projects/prj_opswatch" and .status == 429')" = 1 ]
}

@test "rollback: dry-run without any token sends no request at all" {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID
  grafana_on
  run_runbook rollback.sh --dry-run
  assert_status 0
  assert_output_has "[dry-run] would run: curl" "/rollback/" "Authorization: Bearer ***" "nothing was changed" \
    "would post this Grafana annotation after a live change"
  [ "$(requests)" = 0 ]
}

@test "rollback: dry-run with a token only reads, and names the deployment it would roll back to" {
  grafana_on
  run_runbook rollback.sh --dry-run --yes
  assert_status 0
  assert_output_has "rolling back from dpl_current to dpl_previous" "/rollback/dpl_previous"
  [ "$(requests)" -ge 1 ]
  [ "$(mutating_requests)" = 0 ]
  [ "$(requests '.path == "/api/health" or .path == "/api/annotations"')" = 0 ]
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

@test "rollback: an id from the API that is not a Vercel id never goes into a path (exit 1, no POST)" {
  local evil
  for evil in '../../v2/user' 'dpl_x?teamId=other' 'dpl_x/../../v9' 'dpl_x%2F..'; do
    fake_control "$(jq -nc --arg evil "$evil" '{"reset": true, "deployments": [
      {"uid": "dpl_current", "state": "READY", "created": 3000, "target": "production"},
      {"uid": $evil, "state": "READY", "created": 2000, "target": "production"}]}')"
    run_runbook rollback.sh --yes
    assert_status 2
    assert_output_has "not valid Vercel ids"
    [ "$(mutating_requests)" = 0 ]
    [ "$(requests '.path | test("v2|%|\\.\\.")')" = 0 ]
  done
  # As the serving deployment (targets.production.id) it stops the run before any list.
  fake_control '{"reset": true, "current": "../../v2/user", "deployments": [
    {"uid": "../../v2/user", "state": "READY", "created": 3000, "target": "production"}]}'
  run_runbook rollback.sh --yes
  assert_status 1
  assert_output_has "is not a valid id ('../../v2/user'): it is never put into a request path"
  [ "$(requests '.path == "/v6/deployments"')" = 0 ]
}

@test "rollback: terminal escapes and control characters from the API are never printed" {
  local esc=$'\e'
  fake_control "$(jq -nc '{"deployments": [
      {"uid": "dpl_current", "state": "READY", "created": 3000, "target": "production",
       "url": "evil\u001b[2J\u001b]0;pwned\u0007.vercel.app", "sha": "a\u001b[31m"},
      {"uid": "dpl_previous", "state": "READY", "created": 2000, "target": "production",
       "url": "line\nOK forged line"}],
    "fail": {"rollback": 409}}')"
  run_runbook rollback.sh --yes
  assert_status 1
  [[ $output != *"$esc"* ]]
  [[ $output != *$'\a'* ]]
  [[ $output != *$'\nOK forged line'* ]]
  assert_output_has "evil?]0;pwned?.vercel.app" "line OK forged line"
  [[ $output != *$'\n'"    OK forged line"* ]]
}

@test "rollback: the token appears nowhere, not even under bash -x, nor in the audit log" {
  export OPSWATCH_AUDIT_LOG="$BATS_TEST_TMPDIR/audit.log"
  grafana_on
  run bash -x "$RUNBOOKS/rollback.sh" --yes </dev/null
  assert_status 0
  [ "$(requests '.auth == "ok"')" -ge 5 ] # the tokens did reach the APIs
  assert_no_secrets "$OPSWATCH_AUDIT_LOG"
  grep -q 'action=rollback from=dpl_current to=dpl_previous http=201' "$OPSWATCH_AUDIT_LOG"
  grep -q 'wait=rollback-job deployment=dpl_previous result=succeeded' "$OPSWATCH_AUDIT_LOG"
  grep -q 'annotation=rollback result=posted' "$OPSWATCH_AUDIT_LOG"
  grep -q 'verify=health result=healthy' "$OPSWATCH_AUDIT_LOG"
  grep -q 'end exit=0' "$OPSWATCH_AUDIT_LOG"
}
