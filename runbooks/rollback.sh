#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Rolls production back to an earlier Vercel deployment (Instant Rollback) and verifies the
# app's health; --undo promotes again, which ends the rollback.
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

OW_URL_PLAIN_PARAMS+=" description "
TO_ID=""
UNDO=0
TARGET=""
FROM=""

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [--yes] [--to DEPLOYMENT_ID] [options]
       $OW_SCRIPT --undo [--to DEPLOYMENT_ID] [--dry-run] [--yes] [options]

Roll production back with Vercel's Instant Rollback (POST /v1/projects/ID/rollback/DEPLOYMENT,
what 'vercel rollback' does; no rebuild): find the deployment that serves production, pick
the newest READY deployment older than it that Vercel lists as a rollback candidate
(isRollbackCandidate: it has served production before) or the one given with --to, roll
back to it, wait for Vercel's alias job (the project's lastAliasRequest) to succeed, then
poll the app's health endpoint. Run it again to go back one more deployment.

What a rollback leaves behind: Vercel turns off the automatic assignment of production
domains. New pushes to the production branch still build but do NOT go live until a
deployment is promoted, so a merge during the incident cannot undo the rollback. The
script prints how to end it:

  --undo               end the rollback: promote (POST /v10/projects/ID/promote/DEPLOYMENT,
                       what 'vercel promote' does) the deployment that served before it
                       (Vercel's lastAliasRequest.fromDeploymentId), or the one given with
                       --to (e.g. a fixed build). Automatic production deployments resume.
                       A promotion answered 202 is queued by Vercel and polled like the rest.
  --to ID              roll back to (or with --undo: promote) this deployment (dpl_...); it
                       must be READY and not the one serving now

Exit codes:
  0  done and verified
  1  the rollback or promotion failed (HTTP error, failed alias job, not finished within
     --promote-timeout), or the app is not healthy afterwards
  2  nothing to do, or refused before anything changed (no earlier rollback candidate;
     --to unknown, not READY or never served production; --undo without a rollback), or
     a usage or configuration error
  3  a required tool is missing

$(ow_vercel_help)

$(ow_common_help)

Examples:
  $OW_SCRIPT --dry-run                 # show the plan and the deployment it would pick
  $OW_SCRIPT --yes                     # roll back to the previous rollback candidate
  $OW_SCRIPT --to dpl_7Hk2... --yes    # roll back to a chosen deployment
  $OW_SCRIPT --undo --yes              # end the rollback (promote what served before)
HELP
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --to | --to=*)
        ow_take_value "$@"
        ow_vercel_id_ok "$OW_VALUE" || ow_usage_error "--to needs a deployment id (dpl_...), got '$OW_VALUE'"
        TO_ID=$OW_VALUE
        ;;
      --undo)
        UNDO=1
        OW_SHIFT=1
        ;;
      *) ow_vercel_parse_flag "$@" || ow_parse_common_flag "$@" ;;
    esac
    shift "$OW_SHIFT"
  done
}

# check_deployment ID PURPOSE: exit 2 unless ID exists, is READY and was built for
# production; for a rollback also that Vercel lists it as a rollback candidate.
check_deployment() {
  local id=$1 purpose=$2 state target candidate
  state=$(ow_vercel_field "$id" state)
  candidate=$(ow_vercel_field "$id" candidate)
  target=production
  if [[ -z $state ]]; then
    ow_vercel_url "/v13/deployments/$id"
    ow_vercel_show GET "$OW_URL"
    if ! ow_vercel_get_deployment "$id"; then
      [[ $OW_HTTP == 404 ]] && ow_die "$OW_EXIT_USAGE" "deployment $id not found in project $OW_PROJECT_REF"
      ow_vercel_fail "reading deployment $id"
    fi
    IFS=$'\x1f' read -r state target candidate < <(jq -r '[(.readyState // .state // "UNKNOWN"),
      (.target // ""), (if has("isRollbackCandidate") then (.isRollbackCandidate == true) else "" end)]
      | map(tostring | gsub("[\r\n]"; " ")) | join("\u001f")' "$OW_TMP/vercel.json") || true
  fi
  [[ $state == READY ]] || ow_die "$OW_EXIT_USAGE" "deployment $id is $state, not READY: refusing to $purpose it"
  [[ $target == production ]] || ow_die "$OW_EXIT_USAGE" "deployment $id was not built for production" \
    "(target '$target'): refusing to $purpose it"
  if [[ $purpose == "roll back to" && $candidate == false ]]; then
    ow_die "$OW_EXIT_USAGE" "deployment $id has never served production (isRollbackCandidate is false):" \
      "an instant rollback cannot go there. To put it live, promote it: $OW_SCRIPT --undo --to $id"
  fi
}

# Sets TARGET to the deployment to roll back to, or exits 2 when there is none.
pick_rollback_target() {
  local current=$1 created
  if [[ -n $TO_ID ]]; then
    [[ $TO_ID == "$current" ]] &&
      ow_die "$OW_EXIT_USAGE" "$TO_ID is the deployment serving production now: nothing to roll back"
    check_deployment "$TO_ID" "roll back to"
    TARGET=$TO_ID
    return 0
  fi
  created=$OW_SERVING_CREATED
  ((created > 0)) || created=$(ow_vercel_field "$current" created)
  [[ $created =~ ^[1-9][0-9]*$ ]] ||
    ow_die "$OW_EXIT_USAGE" "cannot tell when $current was created, so \"previous\" is unclear: pass --to ID"
  TARGET=$(jq -r --arg cur "$current" --argjson created "$created" '[.[] | select(.idok and .id != $cur
      and .state == "READY" and .candidate and .created < $created)] | sort_by(-.created) | .[0].id // ""' \
    "$OW_TMP/deployments.json")
  [[ -n $TARGET ]] || ow_die "$OW_EXIT_USAGE" "no earlier READY deployment that Vercel lists as a rollback" \
    "candidate among the $OW_VERCEL_LIMIT newest (serving: $current). Nothing was changed. Use --to ID" \
    "for an older one."
}

# Sets TARGET to the deployment to promote for --undo, or exits 2.
pick_undo_target() {
  local current=$1
  if [[ -n $TO_ID ]]; then
    TARGET=$TO_ID
  elif [[ $OW_ALIAS_TYPE == rollback && -n $OW_ALIAS_FROM ]]; then
    ow_vercel_require_id "the deployment the rollback came from" "$OW_ALIAS_FROM"
    TARGET=$OW_ALIAS_FROM
    ow_info "the last rollback went from $OW_ALIAS_FROM to $OW_ALIAS_TO ($OW_ALIAS_STATUS)"
  else
    ow_die "$OW_EXIT_USAGE" "production is not rolled back (Vercel's last alias request:" \
      "${OW_ALIAS_TYPE:-none}): nothing to undo. To promote a chosen deployment: --undo --to ID"
  fi
  [[ $TARGET != "$current" ]] ||
    ow_die "$OW_EXIT_USAGE" "$TARGET serves production already: nothing to promote"
  check_deployment "$TARGET" promote
}

# post_alias_request TYPE PATH QUESTION: ask (unless --yes), then POST with the {} body the
# CLI sends. In a dry-run it only prints the call.
post_alias_request() {
  local type=$1 url
  ow_vercel_url "$2" "${3:-}"
  url=$OW_URL
  if ((OW_DRY_RUN)); then
    ow_vercel_show POST "$url" '{}'
    return 0
  fi
  ow_confirm "$4"
  ow_vercel_show POST "$url" '{}'
  if ! ow_vercel_call POST "$url" '{}'; then
    ow_audit "action=$type from=$FROM to=$TARGET result=failed http=$OW_HTTP"
    [[ $OW_HTTP == 402 ]] && ow_error "Vercel answered 402: on the Hobby plan only the immediately" \
      "previous production deployment can be the target"
    ow_vercel_fail "$type to $TARGET"
  fi
  if [[ $OW_HTTP == 202 ]]; then
    ow_info "Vercel queued the $type (HTTP 202: it begins when the active rolling release" \
      "completes); polling its job like any other"
  else
    ow_ok "$type to $TARGET accepted (HTTP $OW_HTTP)"
  fi
  ow_audit "action=$type from=$FROM to=$TARGET http=$OW_HTTP"
}

# Polls the alias job; on a failure annotates it (some domains may have moved) and exits 1.
wait_alias_job() {
  local type=$1 action=$2 rc=0 what
  what="$action of $OW_PROJECT_NAME by $(ow_who) ($OW_SCRIPT): production $FROM -> $TARGET"
  ow_vercel_wait_alias_job "$type" "$TARGET" || rc=$?
  if ((OW_DRY_RUN)); then
    ow_grafana_annotate "$action" "$what"
    return 0
  fi
  if ((rc != 0)); then
    ow_grafana_annotate "$action" "$what (FAILED: alias job ${OW_ALIAS_STATUS:-error})"
    exit "$OW_EXIT_FAILED"
  fi
  ow_grafana_annotate "$action" "$what"
}

explain_rollback() {
  local from=$FROM
  cat <<TEXT
    What this rollback leaves behind:
      - Vercel turned off the automatic assignment of production domains: pushes to the
        production branch still build, but do NOT go live until a deployment is promoted.
      - To end it and go back to $from (automatic deployments resume):
          runbooks/rollback.sh --undo --dry-run   then   runbooks/rollback.sh --undo --yes
          (Vercel CLI: vercel promote $from)
      - Once a fix is built (READY, not live): runbooks/rollback.sh --undo --to <its id>
TEXT
}

rollback() {
  ow_step "1. Find the deployment that serves production and the recent ones"
  ow_vercel_find_serving
  ow_vercel_list_production

  ow_step "2. Pick the deployment to roll back to"
  if ((OW_VERCEL_READ)); then
    pick_rollback_target "$OW_SERVING"
    ow_vercel_print_deployments "$OW_SERVING=serving $TARGET=rollback-target"
    ow_info "rolling back from $OW_SERVING to $TARGET"
  else
    TARGET=${TO_ID:-<previous rollback candidate>}
    ow_would "pick ${TO_ID:-the newest READY rollback candidate older than the serving one} (needs VERCEL_TOKEN to look up)"
  fi

  FROM=$OW_SERVING
  ow_step "3. Roll production back (Instant Rollback) and wait for Vercel's alias job"
  post_alias_request rollback "/v1/projects/$OW_PROJECT_ID/rollback/$TARGET" \
    "description=rollback.sh%20by%20$(ow_who | tr -c 'A-Za-z0-9._\n-' '_')" \
    "Roll production back from $FROM to $TARGET? (automatic production deployments stay off until a promote)"
  wait_alias_job rollback rollback

  ow_step "4. What is left behind"
  explain_rollback
}

undo() {
  ow_step "1. Find the deployment that serves production and the last rollback"
  ow_vercel_find_serving
  ow_vercel_list_production

  ow_step "2. Pick the deployment to promote"
  if ((OW_VERCEL_READ)); then
    pick_undo_target "$OW_SERVING"
    ow_vercel_print_deployments "$OW_SERVING=serving $TARGET=promote"
    ow_info "promoting $TARGET (serving now: $OW_SERVING)"
  else
    TARGET=${TO_ID:-<the deployment the rollback came from>}
    ow_would "pick ${TO_ID:-lastAliasRequest.fromDeploymentId of the last rollback} (needs VERCEL_TOKEN to look up)"
  fi

  FROM=$OW_SERVING
  ow_step "3. Promote it to production and wait for Vercel's alias job"
  post_alias_request promote "/v10/projects/$OW_PROJECT_ID/promote/$TARGET" "" \
    "Promote $TARGET to production instead of $FROM? (ends the rollback: the next production deployment goes live automatically)"
  wait_alias_job promote rollback-undo

  ow_step "4. What changed"
  ow_info "the rollback is over: Vercel assigns new production deployments to the production" \
    "domains automatically again (the next push to the production branch goes live)"
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

  if ((UNDO)); then
    undo
  else
    rollback
  fi

  ow_step "5. Verify the app's health"
  if ! ow_verify_health; then
    ow_error "production now serves $TARGET, but the app is not healthy: escalate. The cause may" \
      "not be the code: check the database (runbooks/db-failover.sh --dry-run) and the providers."
    exit "$OW_EXIT_FAILED"
  fi
  if ((OW_DRY_RUN)); then
    ow_ok "dry run complete: nothing was changed"
  elif ((UNDO)); then
    ow_ok "rollback ended: $TARGET serves production and the app is verified"
  else
    ow_ok "production rolled back to $TARGET and verified"
  fi
}

main "$@"
