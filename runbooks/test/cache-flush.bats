#!/usr/bin/env bats
# cache-flush.sh against the fake Vercel API and health endpoint.

load helpers

@test "cache-flush: redeploys the serving production deployment, waits for READY, verifies health" {
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "dpl_new1 is READY" "dpl_new1 serves production" "caches flushed"
  [ "$(mutating_requests)" = 1 ]
  run the_mutation
  [ "$(jq -r '.method + " " + .path' <<<"$output")" = "POST /v13/deployments" ]
  [ "$(jq -c '.body | del(.meta.opswatchRun)' <<<"$output")" = \
    '{"name":"opswatch-app","deploymentId":"dpl_current","target":"production","meta":{"action":"redeploy","opswatchSource":"dpl_current"}}' ]
  [ "$(jq -r .query.forceNew <<<"$output")" = 1 ]
  [ "$(requests '.method == "GET" and .path == "/v13/deployments/dpl_new1"')" -ge 2 ]
}

@test "cache-flush: a READY deployment that does not take over production exits 1, with the way out" {
  fake_control '{"auto_assign": false}'
  run_runbook cache-flush.sh --yes --promote-timeout "$SHORT"
  assert_status 1
  assert_output_has "dpl_new1 is READY but does not serve production after ${SHORT}s (still dpl_current)" \
    "rollback.sh --undo --to dpl_new1"
}

@test "cache-flush: a deployment that stays BUILDING times out with exit 1" {
  fake_control '{"build": "stay"}'
  run_runbook cache-flush.sh --yes --build-timeout "$SHORT"
  assert_status 1
  assert_output_has "deployment dpl_new1 is not READY after ${SHORT}s (last state: BUILDING)" "cancelled dpl_new1"
  [ "$(requests '.method == "PATCH" and .path == "/v12/deployments/dpl_new1/cancel"')" = 1 ]
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

@test "cache-flush: a refused redeploy request exits 1 and is never retried" {
  fake_control '{"fail": {"create": 400}}'
  run_runbook cache-flush.sh --yes
  assert_status 1
  assert_output_has "redeploying dpl_current failed: HTTP 400 (internal_server_error"
  [ "$(requests '.method == "POST"')" = 1 ]
}

@test "cache-flush: the Data Cache and CDN cache are purged only with --purge-cache, after the redeploy" {
  grafana_on
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "Data Cache and CDN cache were left alone"
  [ "$(requests '.path | contains("purge")')" = 0 ]
  run_runbook cache-flush.sh --yes --purge-cache data
  assert_status 0
  [ "$(requests '.method == "DELETE" and .path == "/v1/data-cache/purge-all" and .query.projectIdOrName == "prj_opswatch"')" = 1 ]
  [ "$(requests '.path == "/v1/edge-cache/purge-all"')" = 0 ]
  run_runbook cache-flush.sh --yes --purge-cache=all
  assert_status 0
  [ "$(requests '.method == "POST" and .path == "/v1/edge-cache/purge-all" and .query.projectIdOrName == "prj_opswatch"')" = 1 ]
  [ "$(requests '.method == "DELETE" and .path == "/v1/data-cache/purge-all"')" = 2 ]
  # Purges come after the new deployment serves.
  run jq -s 'map(.path) | (index("/v1/edge-cache/purge-all")) > (rindex("/v13/deployments"))' "$FAKE_DIR/requests.jsonl"
  [ "$output" = true ]
  [ "$(annotations | jq '[.[] | select(.body.tags[2] == "cache-flush")] | length')" = 5 ]
  run_runbook cache-flush.sh --yes --purge-cache everything
  assert_status 2
  run_runbook cache-flush.sh --dry-run --purge-cache all
  assert_status 0
  assert_output_has "would run: curl --silent --request DELETE" "/v1/data-cache/purge-all?projectIdOrName=prj_opswatch"
}

@test "cache-flush: a failed Grafana annotation only warns; without GRAFANA_URL/TOKEN nothing is posted" {
  run_runbook cache-flush.sh --yes
  assert_status 0
  [ "$(annotations | jq length)" = 0 ]
  grafana_on
  fake_control '{"fail": {"grafana": 500}}'
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "Grafana annotation not posted (HTTP 500" "the change itself is done" "caches flushed"
  unset GRAFANA_TOKEN
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "GRAFANA_URL and GRAFANA_TOKEN must both be set"
  [ "$(annotations | jq length)" = 1 ]
  export GRAFANA_TOKEN="$GRAFANA_SECRET" GRAFANA_URL=http://127.0.0.1:1
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "Grafana annotation not posted (HTTP 000"
}

@test "cache-flush: reads are retried after Retry-After (429) and on 5xx" {
  fake_control '{"throttle": {"project": {"count": 1, "retry_after": "1"}, "list": {"count": 1, "status": 502}}}'
  run_runbook cache-flush.sh --yes
  assert_status 0
  assert_output_has "HTTP 429" "in 1s (Retry-After)" "HTTP 502"
  [ "$(requests '.method == "POST"')" = 1 ]
  fake_control '{"reset": true, "throttle": {"project": {"count": 1, "retry_after": "3600"}}}'
  OPSWATCH_RETRY_MAX_WAIT=5 run_runbook cache-flush.sh --yes
  assert_status 1
  assert_output_has "asks to wait 3600s, more than OPSWATCH_RETRY_MAX_WAIT=5s: not retrying"
  fake_control '{"reset": true, "fail": {"project": 503}}'
  OPSWATCH_HTTP_RETRIES=2 run_runbook cache-flush.sh --yes
  assert_status 1
  [ "$(requests '.path == "/v9/projects/prj_opswatch"')" = 3 ]
}

@test "cache-flush: dry-run without any token sends no request and prints every step" {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID PRODUCTION_URL
  run_runbook cache-flush.sh --dry-run
  assert_status 0
  assert_output_has "/v6/deployments" "/v13/deployments?forceNew=1" '"target":"production"' \
    "until readyState is READY" "on a timeout cancel it" "/api/health"
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
