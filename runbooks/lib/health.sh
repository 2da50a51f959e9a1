# shellcheck shell=bash
# App health verification for the runbooks (sourced after common.sh).
#
# The app's GET /api/health answers {"status": "healthy"|"degraded"|"unhealthy", "checks":
# {"database"|"ai_provider"|"memory": {"status": "pass"|"warn"|"fail", ...}}, ...} with HTTP
# 503 only when unhealthy. We read the JSON status, not just the HTTP code; an answer whose
# code and status disagree (200 + unhealthy, 5xx + healthy) counts as unhealthy.

OW_HEALTH_STATE=""   # healthy | degraded | unhealthy | unreachable | bad-answer
OW_HEALTH_DETAIL=""
OW_HEALTH_SEEN=""

# Fails with exit 2 unless PRODUCTION_URL is set (or we only print, in dry-run).
ow_health_require_config() {
  if ow_is_set PRODUCTION_URL; then
    ow_check_http_url PRODUCTION_URL "$PRODUCTION_URL"
    return 0
  fi
  ((OW_DRY_RUN)) && return 0
  ow_die "$OW_EXIT_USAGE" "PRODUCTION_URL is not set (the app's base URL, e.g. https://app.example.com;" \
    "the health URL is \$PRODUCTION_URL/api/health)"
}

ow_health_url() {
  if ow_is_set PRODUCTION_URL; then
    printf '%s/api/health' "${PRODUCTION_URL%/}"
  else
    printf '%s' "\$PRODUCTION_URL/api/health"
  fi
}

# One probe of URL: sets OW_HEALTH_STATE and OW_HEALTH_DETAIL. Always returns 0.
ow_health_probe() {
  local url=$1 body="$OW_TMP/health.json" err="$OW_TMP/health.err" code status checks
  : >"$body"
  code=$(ow_http_get "$url" "$body" "$err")
  if [[ $code == 000 ]]; then
    OW_HEALTH_STATE=unreachable
    OW_HEALTH_DETAIL=$(tail -n 1 "$err" 2>/dev/null)
    return 0
  fi
  status="" checks=""
  IFS=$'\t' read -r status checks < <(jq -r 'select(type == "object")
    | [(.status // "" | tostring),
       ([(.checks // {}) | to_entries[] | "\(.key)=\(.value.status // "?")"] | join(" "))] | @tsv' \
    "$body" 2>/dev/null) || true
  case $status in
    healthy | degraded | unhealthy) ;;
    *)
      OW_HEALTH_STATE=bad-answer
      OW_HEALTH_DETAIL="HTTP $code, no health status in the body"
      return 0
      ;;
  esac
  [[ $code == 2?? ]] || status=unhealthy
  OW_HEALTH_STATE=$status
  OW_HEALTH_DETAIL="HTTP $code${checks:+; $checks}"
}

# Poll check for ow_poll: 0 when the app is up, 1 to keep waiting. Reports each change.
ow_health_check_once() {
  ow_health_probe "$1"
  local seen="$OW_HEALTH_STATE ($OW_HEALTH_DETAIL)"
  if [[ $seen != "$OW_HEALTH_SEEN" ]]; then
    ow_info "health: $seen"
    OW_HEALTH_SEEN=$seen
  fi
  case $OW_HEALTH_STATE in
    healthy) return 0 ;;
    degraded) return "$OW_REQUIRE_HEALTHY" ;;
    *) return 1 ;;
  esac
}

# ow_verify_health: poll the health endpoint until it is up or --timeout passes.
# Returns 0 when verified, 1 otherwise (the caller exits 1).
ow_verify_health() {
  local url shown rc=0
  url=$(ow_health_url)
  ow_mask_url shown "$url"
  [[ $url == \$* ]] && shown=$url
  ow_show_cmd curl --silent --max-time "$OW_HTTP_TIMEOUT" "$shown"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_HEALTH_TIMEOUT}s until \"status\" is healthy"
    return 0
  fi
  OW_HEALTH_SEEN=""
  ow_poll "$OW_HEALTH_TIMEOUT" "$OW_INTERVAL" ow_health_check_once "$url" || rc=$?
  if ((rc != 0)); then
    ow_error "app health not verified: still $OW_HEALTH_STATE after ${OW_HEALTH_TIMEOUT}s ($OW_HEALTH_DETAIL)"
    ow_audit "verify=health result=$OW_HEALTH_STATE"
    return 1
  fi
  if [[ $OW_HEALTH_STATE == degraded ]]; then
    ow_warn "the app is up but degraded ($OW_HEALTH_DETAIL): look at the checks that warn"
  else
    ow_ok "the app reports healthy ($OW_HEALTH_DETAIL)"
  fi
  ow_audit "verify=health result=$OW_HEALTH_STATE"
  return 0
}
