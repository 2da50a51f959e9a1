#!/usr/bin/env bats
# cache-flush.sh against the fake Vercel API and health endpoint.

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

@test "cache-flush: redeploys the serving production deployment, waits for READY, verifies health" {
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "dpl_new1 is READY" "dpl_new1 serves production" "caches flushed"
  [ "$(mutating_requests)" = 1 ]
  run the_mutation
  [ "$(jq -r '.method + " " + .path' <<<"$output")" = "POST /v13/deployments" ]
  [ "$(jq -c .body <<<"$output")" = '{"name":"opswatch-app","deploymentId":"dpl_current","target":"production"}' ]
  [ "$(jq -r .query.forceNew <<<"$output")" = 1 ]
  [ "$(requests '.method == "GET" and .path == "/v13/deployments/dpl_new1"')" -ge 2 ]
}

@test "cache-flush: a READY deployment that does not take over production exits 1, with the way out" {
  fake_control '{"auto_assign": false}'
  run_runbook cache-flush.sh --yes --promote-timeout "$SHORT"
  assert_status 1
  assert_output_has "dpl_new1 does not serve production after ${SHORT}s (still dpl_current)" \
    "rollback.sh --to dpl_new1"
}

@test "cache-flush: a deployment that stays BUILDING times out with exit 1" {
  fake_control '{"build": "stay"}'
  run_runbook cache-flush.sh --yes --build-timeout "$SHORT"
  assert_status 1
  assert_output_has "deployment dpl_new1 is not READY after ${SHORT}s (last state: BUILDING)"
  [ "$(requests '.path == "/api/health"')" = 0 ]
}

@test "cache-flush: a build that ends in ERROR fails at once with exit 1" {
  fake_control '{"build": "error"}'
  run_runbook cache-flush.sh --yes
  assert_status 1
  assert_output_has "deployment dpl_new1 ended ERROR"
  [ "$(requests '.path == "/v13/deployments/dpl_new1"')" = 2 ]
}

@test "cache-flush: exits 1 when the app is unhealthy after the redeploy" {
  fake_control '{"health_by_deployment": {"dpl_new1": "unhealthy"}}'
  run_runbook cache-flush.sh --yes --timeout "$SHORT"
  assert_status 1
  assert_output_has "app health not verified" "rollback.sh --dry-run"
}

@test "cache-flush: a failed redeploy request exits 1" {
  fake_control '{"fail": {"create": 500}}'
  run_runbook cache-flush.sh --yes
  assert_status 1
  assert_output_has "redeploying dpl_current failed: HTTP 500 (internal_server_error"
}

@test "cache-flush: dry-run without any token sends no request and prints every step" {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID PRODUCTION_URL
  run_runbook cache-flush.sh --dry-run
  assert_status 0
  assert_output_has "/v6/deployments" "/v13/deployments?forceNew=1" '"target":"production"' \
    "until readyState is READY" "/api/health"
  [ "$(requests)" = 0 ]
}

@test "cache-flush: dry-run with a token sends no mutating request" {
  run_runbook cache-flush.sh --yes --dry-run
  assert_status 0
  assert_output_has '"deploymentId":"dpl_current"'
  [ "$(mutating_requests)" = 0 ]
}

@test "cache-flush: a missing token exits 2 with a clear message" {
  unset VERCEL_TOKEN
  run_runbook cache-flush.sh --yes
  assert_status 2
  assert_output_has "VERCEL_TOKEN not set" "--dry-run"
  [ "$(requests)" = 0 ]
}

@test "cache-flush: the token appears nowhere, not even under bash -x" {
  run bash -x "$RUNBOOKS/cache-flush.sh" --yes </dev/null
  assert_status 0
  [ "$(requests '(.path | startswith("/v")) and .auth == "ok"')" -ge 3 ]
  assert_no_secrets
}
