# shellcheck shell=bash
# Grafana deploy annotations for the runbooks (sourced after common.sh).
#
# With GRAFANA_URL and GRAFANA_TOKEN set, each live rollback, redeploy and cache flush posts
# an organisation annotation through Grafana's HTTP API (POST /api/annotations, bearer
# token, body {"time": epoch ms, "tags": [...], "text": ...}) tagged deploy, opswatch and the
# action (rollback, rollback-undo, redeploy, cache-flush); the dashboards show them through
# the built-in annotation datasource filtered on the tag "deploy". Never in --dry-run, off
# without both variables, and a failed post only warns: it never fails the runbook.

OW_GRAFANA=0

# Checks GRAFANA_URL and GRAFANA_TOKEN; annotations are on only with both (exit 2 when one
# is malformed, a warning when only one is set).
ow_grafana_require_config() {
  OW_GRAFANA=0
  if ow_is_set GRAFANA_URL && ow_is_set GRAFANA_TOKEN; then
    ow_check_http_url GRAFANA_URL "$GRAFANA_URL"
    ow_untraced ow_grafana_check_token
    OW_GRAFANA=1
  elif ow_is_set GRAFANA_URL || ow_is_set GRAFANA_TOKEN; then
    ow_warn "GRAFANA_URL and GRAFANA_TOKEN must both be set to annotate the dashboards: annotations are off"
  fi
  return 0
}

# Runs untraced: the token must fit in a curl config string as it is.
ow_grafana_check_token() {
  [[ $GRAFANA_TOKEN =~ ^[A-Za-z0-9_.=-]+$ ]] ||
    ow_die "$OW_EXIT_USAGE" "GRAFANA_TOKEN has unexpected characters (expected letters, digits, _ . = -)"
}

# ow_grafana_annotate ACTION TEXT: post the annotation (live runs only). Always returns 0.
ow_grafana_annotate() {
  local action=$1 text=$2 url shown body now_us code
  ((OW_GRAFANA)) || return 0
  url="${GRAFANA_URL%/}/api/annotations"
  ow_mask_url shown "$url"
  ow_now_us now_us
  body=$(jq -nc --argjson time "$((now_us / 1000))" --arg action "$action" --arg text "$text" \
    '{time: $time, tags: ["deploy", "opswatch", $action], text: $text}') || return 0
  ow_show_cmd curl --silent --request POST --header 'Authorization: Bearer ***' \
    --header 'Content-Type: application/json' --data "$body" "$shown"
  if ((OW_DRY_RUN)); then
    ow_would "post this Grafana annotation after a live change (never in a dry-run)"
    return 0
  fi
  code=$(ow_untraced ow_grafana_post "$url" "$body") || code=000
  if [[ $code == 2?? ]]; then
    ow_ok "Grafana annotation posted (tags deploy, opswatch, $action)"
    ow_audit "annotation=$action result=posted"
  else
    ow_warn "Grafana annotation not posted (HTTP $code$(ow_grafana_error)): the change itself is done"
    ow_audit "annotation=$action result=failed http=$code"
  fi
  return 0
}

# Runs untraced. The token comes from a here-document, never from the command line.
ow_grafana_post() {
  curl --silent --show-error --max-time "$OW_HTTP_TIMEOUT" --request POST \
    --header 'Content-Type: application/json' --data-binary "$2" \
    --output "$OW_TMP/grafana.json" --write-out '%{http_code}' --config - \
    2>"$OW_TMP/grafana.err" <<CONFIG
url = "$1"
header = "Authorization: Bearer ${GRAFANA_TOKEN}"
CONFIG
}

# The reason of a failed post, for the warning.
ow_grafana_error() {
  local message
  message=$(jq -r '.message // empty' "$OW_TMP/grafana.json" 2>/dev/null) || message=""
  [[ -n $message ]] || message=$(tail -n 1 "$OW_TMP/grafana.err" 2>/dev/null)
  printf '%s' "${message:+: $message}"
}
