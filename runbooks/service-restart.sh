#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Restarts the app by redeploying its latest production commit, then verifies its health
# and that the health-probe and error alerts have cleared.
set -euo pipefail

OW_LIB="$(cd -- "${BASH_SOURCE[0]%/*}" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$OW_LIB/common.sh"
# shellcheck source=lib/health.sh
source "$OW_LIB/health.sh"
# shellcheck source=lib/grafana.sh
source "$OW_LIB/grafana.sh"
# shellcheck source=lib/vercel.sh
source "$OW_LIB/vercel.sh"

ALERTS=${OPSWATCH_RECOVERY_ALERTS:-AppHealthProbeFailing,AppHealthDegraded}
ALERTS_TIMEOUT=${OPSWATCH_ALERTS_TIMEOUT:-600}
ALERTS_SEEN=""

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [--yes] [options]

Restart the app. Vercel has no restart, so redeploy the production commit (the deployment
that serves production: normally the latest production deployment; after a rollback the
one rolled back to, so a restart never brings a rolled-back commit back) as a fresh build
with fresh function instances. Wait until it is READY and serves production, poll the
app's health endpoint, then check that the error rate recovered: with PROMETHEUS_URL set,
poll Prometheus (GET /api/v1/alerts) until none of the recovery alerts is firing or
pending. Without PROMETHEUS_URL that last check is skipped, and said so.

Options:
  --alerts NAME[,NAME...]   the alerts that must clear (default
                            $ALERTS;
                            env OPSWATCH_RECOVERY_ALERTS)
  --alerts-timeout SECONDS  how long to wait for them to clear (default $ALERTS_TIMEOUT,
                            env OPSWATCH_ALERTS_TIMEOUT); rules need a few evaluation
                            cycles after the app recovers
  PROMETHEUS_URL (env)      e.g. http://prometheus:9090; optional

Exit codes:
  0  restarted and verified
  1  the redeploy failed: HTTP error, build ERROR or CANCELED, build not READY
     within --build-timeout (then cancelled, or said plainly that it will still go live),
     domains not assigned within --promote-timeout; or the app is not healthy, the alerts did not clear
  2  refused before anything changed, or a usage or configuration error
  3  a required tool is missing

$(ow_vercel_redeploy_help)

$(ow_vercel_help)

$(ow_common_help)

Examples:
  $OW_SCRIPT --dry-run
  PROMETHEUS_URL=http://localhost:9090 $OW_SCRIPT --yes
HELP
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --alerts | --alerts=*)
        ow_take_value "$@"
        ALERTS=$OW_VALUE
        ;;
      --alerts-timeout | --alerts-timeout=*)
        ow_take_value "$@"
        ow_check_seconds --alerts-timeout "$OW_VALUE"
        ALERTS_TIMEOUT=$OW_VALUE
        ;;
      *) ow_vercel_parse_redeploy_flag "$@" || ow_parse_common_flag "$@" ;;
    esac
    shift "$OW_SHIFT"
  done
}

check_settings() {
  ow_check_seconds OPSWATCH_ALERTS_TIMEOUT "$ALERTS_TIMEOUT"
  [[ $ALERTS =~ ^[A-Za-z_:][A-Za-z0-9_:]*(,[A-Za-z_:][A-Za-z0-9_:]*)*$ ]] ||
    ow_usage_error "--alerts must be a comma-separated list of alert names, got '$ALERTS'"
  if ow_is_set PROMETHEUS_URL; then
    ow_check_http_url PROMETHEUS_URL "$PROMETHEUS_URL"
  fi
}

# Poll check: 0 when none of ALERTS is firing or pending, 1 otherwise. Reports changes.
alerts_clear_once() {
  local body="$OW_TMP/alerts.json" code active
  code=$(ow_http_get "$1" "$body" "$OW_TMP/alerts.err")
  if [[ $code != 200 ]]; then
    active="Prometheus answered HTTP $code"
  elif ! active=$(jq -r --arg names "$ALERTS" '
      ($names | split(",")) as $wanted
      | [.data.alerts[] | select(.labels.alertname as $n | any($wanted[]; . == $n))
         | "\(.labels.alertname) (\(.state))"] | unique | join(", ")' "$body" 2>/dev/null); then
    active="Prometheus answered without a data.alerts list"
  fi
  if [[ $active != "$ALERTS_SEEN" ]]; then
    ow_info "alerts: ${active:-none of them active}"
    ALERTS_SEEN=$active
  fi
  [[ -z $active ]]
}

# Checks that the error rate recovered, through the alerts that watch it.
verify_alerts_cleared() {
  if ! ow_is_set PROMETHEUS_URL; then
    ow_warn "PROMETHEUS_URL is not set: error-rate recovery not checked; watch the alerts" \
      "$ALERTS and the opswatch-health dashboard"
    ow_audit "verify=alerts result=skipped"
    return 0
  fi
  local url="${PROMETHEUS_URL%/}/api/v1/alerts" shown rc=0
  ow_mask_url shown "$url"
  ow_show_cmd curl --silent --max-time "$OW_HTTP_TIMEOUT" "$shown"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${ALERTS_TIMEOUT}s until none of $ALERTS is firing or pending"
    return 0
  fi
  ow_poll "$ALERTS_TIMEOUT" "$OW_INTERVAL" alerts_clear_once "$url" || rc=$?
  if ((rc != 0)); then
    ow_error "error rate not recovered: still active after ${ALERTS_TIMEOUT}s: $ALERTS_SEEN"
    ow_audit "verify=alerts result=active"
    return 1
  fi
  ow_ok "none of $ALERTS is firing or pending"
  ow_audit "verify=alerts result=cleared"
}

main() {
  parse_args "$@"
  ow_begin "$@"
  check_settings
  ow_vercel_require_config
  ow_health_require_config
  ow_grafana_require_config
  if ((OW_VERCEL_READ)); then
    ow_require_tools curl jq
  fi
  ow_require_consent

  ow_vercel_redeploy_current "restarts every function instance" redeploy

  ow_step "4. Verify the app's health"
  if ! ow_verify_health; then
    ow_error "restarted (new deployment $OW_NEW_DEPLOYMENT), but the app is not healthy:" \
      "consider runbooks/rollback.sh --dry-run, or runbooks/db-failover.sh if the database check fails"
    exit "$OW_EXIT_FAILED"
  fi

  ow_step "5. Check that the error rate recovered"
  verify_alerts_cleared || exit "$OW_EXIT_FAILED"
  if ((OW_DRY_RUN)); then
    ow_ok "dry run complete: nothing was changed"
  else
    ow_ok "restarted: $OW_NEW_DEPLOYMENT serves production and the app is verified"
  fi
}

main "$@"
