#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Flushes the app's in-memory caches by redeploying production, optionally purges Vercel's
# CDN cache and Data Cache, then verifies the app's health.
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

PURGE=none

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [--yes] [--purge-cache cdn|data|all] [options]

Flush the app's caches. The app's own caches (no Redis) live in the memory of each
deployment's functions, so the flush is a redeploy of the deployment that serves
production (same commit, same settings) through the Vercel REST API. The script waits
until the new deployment is READY and serves production (the old one serves until then),
then polls the app's health endpoint.

Caches a redeploy does NOT empty, purged only when asked (off by default):
  --purge-cache data   Vercel's Data Cache (fetch cache of the App Router): it persists
                       across deployments. DELETE /v1/data-cache/purge-all
  --purge-cache cdn    Vercel's CDN cache (POST /v1/edge-cache/purge-all). CDN entries are
                       keyed per deployment, so a new deployment mostly starts cold anyway.
  --purge-cache all    both, as 'vercel cache purge' does
  The purge runs after the new deployment serves, asked first unless --yes. Purged data
  is fetched again from the origin: expect slower responses for a while.

Exit codes:
  0  flushed and verified
  1  the redeploy or the purge failed: HTTP error, build ERROR or CANCELED, build not READY
     within --build-timeout (then cancelled, or said plainly that it will still go live),
     domains not assigned within --promote-timeout; or the app is not healthy
  2  refused before anything changed, or a usage or configuration error
  3  a required tool is missing

$(ow_vercel_redeploy_help)

$(ow_vercel_help)

$(ow_common_help)

Examples:
  $OW_SCRIPT --dry-run
  $OW_SCRIPT --yes --build-timeout 600
  $OW_SCRIPT --yes --purge-cache data
HELP
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --purge-cache | --purge-cache=*)
        ow_take_value "$@"
        [[ $OW_VALUE =~ ^(cdn|data|all)$ ]] || ow_usage_error "--purge-cache must be cdn, data or all, got '$OW_VALUE'"
        PURGE=$OW_VALUE
        ;;
      *) ow_vercel_parse_redeploy_flag "$@" || ow_parse_common_flag "$@" ;;
    esac
    shift "$OW_SHIFT"
  done
}

# purge_one METHOD PATH WHAT: one purge call; exit 1 when Vercel refuses it.
purge_one() {
  ow_vercel_url "$2" "projectIdOrName=$OW_PROJECT_ID"
  ow_vercel_show "$1" "$OW_URL"
  ((OW_DRY_RUN)) && return 0
  if ! ow_vercel_call "$1" "$OW_URL"; then
    ow_audit "action=purge cache=$3 result=failed http=$OW_HTTP"
    ow_vercel_fail "purging the $3"
  fi
  ow_ok "purged the $3 of $OW_PROJECT_NAME"
  ow_audit "action=purge cache=$3 http=$OW_HTTP"
}

purge_caches() {
  local what
  case $PURGE in
    cdn) what="CDN cache" ;;
    data) what="Data Cache" ;;
    all) what="CDN cache and Data Cache" ;;
  esac
  ow_step "4. Purge Vercel's $what (--purge-cache $PURGE)"
  ((OW_DRY_RUN)) || ow_confirm "Purge the $what of $OW_PROJECT_NAME? (data is fetched again from the origin)"
  [[ $PURGE == data ]] || purge_one POST /v1/edge-cache/purge-all "CDN cache"
  [[ $PURGE == cdn ]] || purge_one DELETE /v1/data-cache/purge-all "Data Cache"
  ow_grafana_annotate cache-flush "cache purge ($what) of $OW_PROJECT_NAME by $(ow_who) ($OW_SCRIPT)"
}

main() {
  parse_args "$@"
  ow_begin "$@"
  ow_vercel_require_config
  ow_health_require_config
  ow_grafana_require_config
  if ((OW_VERCEL_READ)); then
    ow_require_tools curl jq
  fi
  ow_require_consent

  ow_vercel_redeploy_current "flushes the in-memory caches" cache-flush
  if [[ $PURGE != none ]]; then
    purge_caches
  else
    ow_info "Vercel's Data Cache and CDN cache were left alone (--purge-cache data|cdn|all purges them)"
  fi

  ow_step "5. Verify the app's health"
  if ! ow_verify_health; then
    ow_error "the caches were flushed (new deployment $OW_NEW_DEPLOYMENT), but the app is not healthy:" \
      "consider runbooks/rollback.sh --dry-run"
    exit "$OW_EXIT_FAILED"
  fi
  if ((OW_DRY_RUN)); then
    ow_ok "dry run complete: nothing was changed"
  else
    ow_ok "caches flushed: $OW_NEW_DEPLOYMENT serves production and the app is verified"
  fi
}

main "$@"
