#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Flushes the app's in-memory caches by redeploying production, then verifies its health.
set -euo pipefail

OW_LIB="$(cd -- "${BASH_SOURCE[0]%/*}" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$OW_LIB/common.sh"
# shellcheck source=lib/health.sh
source "$OW_LIB/health.sh"
# shellcheck source=lib/vercel.sh
source "$OW_LIB/vercel.sh"

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [--yes] [options]

Flush the app's caches. There is no Redis: the caches live in the memory of each
deployment's functions, so a flush is a redeploy of the deployment that serves production
(same commit, same settings) through the Vercel REST API. The script waits until the new
deployment is READY and serves production (the old one serves until then), then polls the
app's health endpoint.
$(ow_vercel_help)

$(ow_common_help)

Examples:
  $OW_SCRIPT --dry-run
  $OW_SCRIPT --yes --build-timeout 600
HELP
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      *) ow_vercel_parse_flag "$@" || ow_parse_common_flag "$@" ;;
    esac
    shift "$OW_SHIFT"
  done
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

  ow_vercel_redeploy_current "flushes the in-memory caches"

  ow_step "4. Verify the app's health"
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
