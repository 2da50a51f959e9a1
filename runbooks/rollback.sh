#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Rolls production back to an earlier Vercel deployment and verifies the app's health.
set -euo pipefail

OW_LIB="$(cd -- "${BASH_SOURCE[0]%/*}" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$OW_LIB/common.sh"
# shellcheck source=lib/health.sh
source "$OW_LIB/health.sh"
# shellcheck source=lib/vercel.sh
source "$OW_LIB/vercel.sh"

TO_ID=""
TARGET=""

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [--yes] [--to DEPLOYMENT_ID] [options]

Roll production back: find the deployment that serves production and list the recent
production deployments of the Vercel project, pick the previous READY one (the newest
READY one older than the serving one) or the one given with --to, promote it to
production (no rebuild), wait until it serves, then poll the app's health endpoint.
Exits 1 when the app is not healthy afterwards; refuses (exit 2) when there is no earlier
READY deployment to go back to. Run it again to go back one more deployment.

Options:
  --to ID              promote this deployment (dpl_...) instead of the previous one;
                       it must be READY and not the one serving now

$(ow_vercel_help)

$(ow_common_help)

Examples:
  $OW_SCRIPT --dry-run                 # show the plan and the deployment it would pick
  $OW_SCRIPT --yes                     # roll back to the previous READY deployment
  $OW_SCRIPT --to dpl_7Hk2... --yes    # roll back to a chosen deployment
HELP
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --to | --to=*)
        ow_take_value "$@"
        [[ $OW_VALUE =~ ^[A-Za-z0-9_-]+$ ]] || ow_usage_error "--to needs a deployment id (dpl_...), got '$OW_VALUE'"
        TO_ID=$OW_VALUE
        ;;
      *) ow_vercel_parse_flag "$@" || ow_parse_common_flag "$@" ;;
    esac
    shift "$OW_SHIFT"
  done
}

# Checks a deployment given with --to that is not in the recent list.
check_explicit_target() {
  local url state
  ow_vercel_url "/v13/deployments/$TO_ID"
  url=$OW_URL
  ow_vercel_show GET "$url"
  if ! ow_vercel_call GET "$url"; then
    [[ $OW_HTTP == 404 ]] && ow_die "$OW_EXIT_USAGE" "deployment $TO_ID not found in project $OW_PROJECT"
    ow_vercel_fail "reading deployment $TO_ID"
  fi
  state=$(jq -r '.readyState // .state // "UNKNOWN"' "$OW_TMP/vercel.json")
  [[ $state == READY ]] || ow_die "$OW_EXIT_USAGE" "deployment $TO_ID is $state, not READY: refusing to promote it"
  [[ $(jq -r '.target // ""' "$OW_TMP/vercel.json") == production ]] ||
    ow_warn "deployment $TO_ID was not built for production (its target is not \"production\")"
}

# Sets TARGET to the deployment to roll back to, or exits 2 when there is none.
pick_target() {
  local current=$1 state
  if [[ -n $TO_ID ]]; then
    [[ $TO_ID == "$current" ]] &&
      ow_die "$OW_EXIT_USAGE" "$TO_ID is the deployment serving production now: nothing to roll back"
    state=$(ow_vercel_field "$TO_ID" state)
    if [[ -z $state ]]; then
      check_explicit_target
    elif [[ $state != READY ]]; then
      ow_die "$OW_EXIT_USAGE" "deployment $TO_ID is $state, not READY: refusing to promote it"
    fi
    TARGET=$TO_ID
    return 0
  fi
  TARGET=$(jq -r --arg cur "$current" '(map(.id) | index($cur)) as $i
    | if $i == null then "<not listed>" else (.[$i + 1:] | map(select(.state == "READY")))[0].id // "" end' \
    "$OW_TMP/deployments.json")
  [[ $TARGET != "<not listed>" ]] ||
    ow_die "$OW_EXIT_USAGE" "the serving deployment $current is not among the $OW_VERCEL_LIMIT newest" \
      "production deployments, so \"previous\" is unclear: pass --to ID"
  [[ -n $TARGET ]] || ow_die "$OW_EXIT_USAGE" "no earlier READY production deployment to roll back to" \
    "(serving: $current). Nothing was changed. Use --to ID for an older deployment."
}

# Promotes TARGET (asking first unless --yes); in dry-run only prints the call.
promote() {
  local current=$1 url
  ow_vercel_url "/v10/projects/$OW_PROJECT/promote/$TARGET"
  url=$OW_URL
  ow_vercel_show POST "$url"
  ((OW_DRY_RUN)) && return 0
  ow_confirm "Promote $TARGET to production (instead of $current)?"
  if ! ow_vercel_call POST "$url"; then
    ow_audit "action=promote from=$current to=$TARGET result=failed http=$OW_HTTP"
    ow_vercel_fail "promoting $TARGET"
  fi
  ow_ok "promotion of $TARGET accepted (HTTP $OW_HTTP)"
  ow_audit "action=promote from=$current to=$TARGET http=$OW_HTTP"
}

main() {
  parse_args "$@"
  ow_begin "$@"
  ow_vercel_require_config
  ow_health_require_config
  if ((OW_VERCEL_READ)); then
    ow_require_tools curl jq
  fi
  ow_require_consent

  ow_step "1. Find the deployment that serves production and the recent ones"
  ow_vercel_find_serving
  ow_vercel_list_production

  ow_step "2. Pick the deployment to roll back to"
  if ((OW_VERCEL_READ)); then
    pick_target "$OW_SERVING"
    ow_vercel_print_deployments "$OW_SERVING=serving $TARGET=rollback-target"
    ow_info "rolling back from $OW_SERVING to $TARGET"
  else
    TARGET=${TO_ID:-<previous READY production deployment>}
    ow_would "pick ${TO_ID:-the newest READY deployment older than the serving one} (needs VERCEL_TOKEN to look up)"
  fi

  ow_step "3. Promote it to production and wait until it serves"
  promote "$OW_SERVING"
  ow_vercel_wait_serving "$TARGET" "Check the project's domains in the Vercel dashboard."

  ow_step "4. Verify the app's health"
  if ! ow_verify_health; then
    ow_error "rolled back to $TARGET, but the app is not healthy: escalate. The cause may not be" \
      "the code: check the database (runbooks/db-failover.sh --dry-run) and the providers."
    exit "$OW_EXIT_FAILED"
  fi
  if ((OW_DRY_RUN)); then
    ow_ok "dry run complete: nothing was changed"
  else
    ow_ok "production rolled back to $TARGET and verified"
  fi
}

main "$@"
