# shellcheck shell=bash
# shellcheck disable=SC2034 # the OW_ globals are read by the scripts that source this file
# Vercel REST API client for the runbooks (sourced after common.sh, health.sh, grafana.sh).
#
# Calls, as documented in the REST API reference (https://vercel.com/docs/rest-api) and as
# the official CLI (github.com/vercel/vercel, packages/cli) makes them:
#   GET   /v9/projects/{idOrName}?rollbackInfo=true      id, name, targets.production,
#                                                         lastAliasRequest (the alias job)
#   GET   /v6/deployments?projectId=&target=production&limit=   isRollbackCandidate, meta
#   GET   /v13/deployments/{id}                          readyState, aliasAssigned, aliasError
#   POST  /v13/deployments?forceNew=1  {name, deploymentId, target, meta}   redeploy
#   PATCH /v12/deployments/{id}/cancel                   cancel a build
#   POST  /v1/projects/{id}/rollback/{deploymentId}  {}  instant rollback
#   POST  /v10/projects/{id}/promote/{deploymentId}  {}  promote (undoes a rollback); 202 = queued
#   GET   /v9/projects/{id}/{rollback|promote}/aliases?failedOnly=true   aliases a job failed on
#   POST  /v1/edge-cache/purge-all?projectIdOrName=      CDN cache (CLI: vercel cache purge)
#   DELETE /v1/data-cache/purge-all?projectIdOrName=     Data Cache (CLI: vercel cache purge)
# Every call adds teamId=$VERCEL_TEAM_ID when it is set. The project is resolved once
# (VERCEL_PROJECT_ID may be a name); every later path uses its id. Every id taken from an
# answer is checked before it goes into a path (ow_vercel_url refuses anything else).
# Reads are retried on no answer, 429 and 5xx (honouring Retry-After); writes never are.
#
# The token reaches curl through a here-document read with --config -, so it is never on
# a command line (ps) or in a bash -x trace.

OW_VERCEL_API=${VERCEL_API_URL:-https://api.vercel.com}
OW_VERCEL_LIMIT=${OPSWATCH_DEPLOYMENT_LIMIT:-20}
OW_BUILD_TIMEOUT=${OPSWATCH_BUILD_TIMEOUT:-900}
OW_PROMOTE_TIMEOUT=${OPSWATCH_PROMOTE_TIMEOUT:-180}
OW_CREATE_LOOKUP_TIMEOUT=${OPSWATCH_CREATE_LOOKUP_TIMEOUT:-60}
OW_CANCEL_ON_TIMEOUT=1
OW_VERCEL_READ=0    # 1 when API look-ups run (always in a live run; in dry-run only with a token)
OW_HTTP=""          # HTTP code of the last API call (000: no answer)
OW_CURL_RC=0        # curl's exit code of the last call (28: timed out)
OW_RETRY_AFTER=""   # Retry-After of the last answer, in seconds
OW_URL=""           # set by ow_vercel_url
OW_PROJECT_REF=""   # VERCEL_PROJECT_ID as given (id or name), or a placeholder
OW_PROJECT_ID=""    # the project's id, resolved once
OW_PROJECT_NAME=""
OW_SERVING=""       # id of the deployment serving production (targets.production.id)
OW_SERVING_CREATED=0
OW_ALIAS_TYPE="" OW_ALIAS_STATUS="" OW_ALIAS_FROM="" OW_ALIAS_TO="" OW_ALIAS_AT=0
OW_ALIAS_BEFORE=0   # lastAliasRequest.requestedAt before our own request
OW_ROLLED_BACK=0    # 1 when production is an instant rollback (auto-assignment is off)
OW_DEPLOY_SEEN=""
OW_NEW_DEPLOYMENT=""
OW_RUN_ID=""

# Validates the Vercel settings. Live runs need VERCEL_TOKEN and VERCEL_PROJECT_ID (exit 2).
ow_vercel_require_config() {
  local missing=()
  ow_is_set VERCEL_TOKEN || missing+=(VERCEL_TOKEN)
  ow_is_set VERCEL_PROJECT_ID || missing+=(VERCEL_PROJECT_ID)
  if ((${#missing[@]} > 0 && !OW_DRY_RUN)); then
    ow_die "$OW_EXIT_USAGE" "${missing[*]} not set: export a Vercel access token" \
      "(Account Settings > Tokens, scoped to the team) and the project id (Project > Settings)," \
      "or run with --dry-run"
  fi
  ow_is_set VERCEL_TOKEN && ow_untraced ow_vercel_check_token
  if ow_is_set VERCEL_PROJECT_ID && [[ ! $VERCEL_PROJECT_ID =~ ^[A-Za-z0-9._-]{1,100}$ ]]; then
    ow_die "$OW_EXIT_USAGE" "VERCEL_PROJECT_ID has unexpected characters: '$VERCEL_PROJECT_ID'"
  fi
  if ow_is_set VERCEL_TEAM_ID && [[ ! $VERCEL_TEAM_ID =~ ^[A-Za-z0-9._-]+$ ]]; then
    ow_die "$OW_EXIT_USAGE" "VERCEL_TEAM_ID has unexpected characters: '$VERCEL_TEAM_ID'"
  fi
  ow_check_http_url VERCEL_API_URL "$OW_VERCEL_API"
  OW_VERCEL_API=${OW_VERCEL_API%/}
  OW_PROJECT_REF=${VERCEL_PROJECT_ID:-\$VERCEL_PROJECT_ID}
  OW_PROJECT_ID=$OW_PROJECT_REF
  [[ $OW_VERCEL_LIMIT =~ ^[1-9][0-9]?$|^100$ ]] ||
    ow_die "$OW_EXIT_USAGE" "OPSWATCH_DEPLOYMENT_LIMIT must be 1-100, got '$OW_VERCEL_LIMIT'"
  ow_check_seconds OPSWATCH_BUILD_TIMEOUT "$OW_BUILD_TIMEOUT"
  ow_check_seconds OPSWATCH_PROMOTE_TIMEOUT "$OW_PROMOTE_TIMEOUT"
  ow_check_seconds OPSWATCH_CREATE_LOOKUP_TIMEOUT "$OW_CREATE_LOOKUP_TIMEOUT"
  if ((!OW_DRY_RUN)) || { ow_is_set VERCEL_TOKEN && ow_is_set VERCEL_PROJECT_ID; }; then
    OW_VERCEL_READ=1
  fi
  return 0
}

# ow_vercel_parse_flag "$@": the Vercel timeouts; returns 1 for any other word.
ow_vercel_parse_flag() {
  case $1 in
    --build-timeout | --build-timeout=*)
      ow_take_value "$@"
      ow_check_seconds --build-timeout "$OW_VALUE"
      OW_BUILD_TIMEOUT=$OW_VALUE
      ;;
    --promote-timeout | --promote-timeout=*)
      ow_take_value "$@"
      ow_check_seconds --promote-timeout "$OW_VALUE"
      OW_PROMOTE_TIMEOUT=$OW_VALUE
      ;;
    *) return 1 ;;
  esac
}

# ow_vercel_parse_redeploy_flag "$@": --no-cancel, then the Vercel timeouts.
ow_vercel_parse_redeploy_flag() {
  case $1 in
    --no-cancel)
      OW_CANCEL_ON_TIMEOUT=0
      OW_SHIFT=1
      ;;
    *) ow_vercel_parse_flag "$@" ;;
  esac
}

# The help text of the Vercel options and settings.
ow_vercel_help() {
  cat <<HELP
Vercel options:
  --promote-timeout SECONDS  how long to wait until production serves the deployment
                             (Vercel's alias job) (default $OW_PROMOTE_TIMEOUT, env
                             OPSWATCH_PROMOTE_TIMEOUT); a failed alias job fails at once

Environment:
  VERCEL_TOKEN         Vercel access token (not needed with --dry-run)
  VERCEL_PROJECT_ID    the project id (prj_...) or name; a name is resolved to the id once
  VERCEL_TEAM_ID       optional, sent as teamId on every API call
  VERCEL_API_URL       default https://api.vercel.com
  PRODUCTION_URL       the app's base URL; health is \$PRODUCTION_URL/api/health
  GRAFANA_URL, GRAFANA_TOKEN  optional: each live change posts a Grafana annotation
                       (tags deploy, opswatch, <action>); a failed post only warns
  OPSWATCH_DEPLOYMENT_LIMIT  how many recent production deployments to list (default $OW_VERCEL_LIMIT)
  OPSWATCH_HTTP_RETRIES      retries of a read on no answer, 429 or 5xx (default $OW_RETRIES;
                             waits Retry-After, else $OW_RETRY_BASE s doubling; writes are never retried)
HELP
}

# The help text of the redeploy options (service-restart.sh, cache-flush.sh).
ow_vercel_redeploy_help() {
  cat <<HELP
Redeploy options:
  --build-timeout SECONDS  how long to wait for the new deployment to be READY (default
                           $OW_BUILD_TIMEOUT, env OPSWATCH_BUILD_TIMEOUT); ERROR or CANCELED fails at once.
                           On a timeout the build is cancelled (PATCH /v12/deployments/ID/cancel,
                           asked first unless --yes), because a build left running takes over
                           production when it finishes.
  --no-cancel              on a build timeout, leave the build running (it still goes live)
  If the create request gets no answer in time, the script looks the new deployment up
  (by a run id in its meta) for up to OPSWATCH_CREATE_LOOKUP_TIMEOUT (default
  ${OW_CREATE_LOOKUP_TIMEOUT}s) before it reports a failure; a re-run that finds a redeploy of the
  same deployment still building waits for it instead of creating a second one.
HELP
}

# Runs untraced: the token must fit in a curl config string as it is.
ow_vercel_check_token() {
  [[ $VERCEL_TOKEN =~ ^[A-Za-z0-9_.-]+$ ]] ||
    ow_die "$OW_EXIT_USAGE" "VERCEL_TOKEN has unexpected characters (expected letters, digits, _ . -)"
}

# ow_vercel_id_ok ID: is ID usable in a path (a Vercel id such as dpl_..., prj_...)?
ow_vercel_id_ok() { [[ $1 =~ ^[A-Za-z0-9_-]{1,128}$ ]]; }

# ow_vercel_require_id WHAT ID: exit 1 unless the id that the API gave is usable.
ow_vercel_require_id() {
  ow_vercel_id_ok "$2" && return 0
  ow_die "$OW_EXIT_FAILED" "Vercel API: $1 is not a valid id ('$2'): it is never put into a request path"
}

# ow_vercel_url PATH [QUERY]: the full API URL into OW_URL, with teamId added when set.
# Every path segment must be a plain name or id: an id from an answer that carries "/",
# "?", "#", "%" or ".." can never redirect an authenticated call to another endpoint.
ow_vercel_url() {
  local path=$1 query=${2:-} segment
  local -a segments=()
  IFS=/ read -r -a segments <<<"${path#/}"
  for segment in "${segments[@]}"; do
    # A dry-run prints placeholders such as <new deployment id> and never calls them.
    ((OW_DRY_RUN)) && [[ $segment =~ ^\<[^/]*\>$|^\$[A-Z_]+$ ]] && continue
    if [[ ! $segment =~ ^[A-Za-z0-9_.-]+$ || $segment == . || $segment == .. || $path == */ ]]; then
      ow_die "$OW_EXIT_FAILED" "refusing to call the Vercel API path '$path' (unexpected characters)"
    fi
  done
  if ow_is_set VERCEL_TEAM_ID; then
    query+="${query:+&}teamId=$VERCEL_TEAM_ID"
  fi
  OW_URL="$OW_VERCEL_API$path${query:+?$query}"
}

# ow_vercel_show METHOD URL [BODY]: print the curl command, with the token masked.
ow_vercel_show() {
  local shown cmd=(curl --silent --request "$1" --header 'Authorization: Bearer ***')
  [[ -n ${3:-} ]] && cmd+=(--header 'Content-Type: application/json' --data "$3")
  ow_mask_url shown "$2"
  ow_show_cmd "${cmd[@]}" "$shown"
}

# ow_vercel_call METHOD URL [BODY]: one request, never retried. The response body goes to
# $OW_TMP/vercel.json, the HTTP code to OW_HTTP, Retry-After to OW_RETRY_AFTER.
# Returns 0 on 2xx, 1 otherwise.
ow_vercel_call() {
  local method=$1 url=$2 body=${3:-} out="$OW_TMP/vercel.json" headers="$OW_TMP/vercel.headers"
  local -a args=(--silent --show-error --max-time "$OW_HTTP_TIMEOUT" --request "$method"
    --output "$out" --dump-header "$headers" --write-out '%{http_code}')
  [[ -n $body ]] && args+=(--header 'Content-Type: application/json' --data-binary "$body")
  : >"$out"
  : >"$headers"
  OW_CURL_RC=0
  OW_HTTP=$(ow_untraced ow_vercel_curl "$url" "${args[@]}") || OW_CURL_RC=$?
  ((OW_CURL_RC == 0)) || OW_HTTP=000
  ow_retry_after OW_RETRY_AFTER "$headers"
  [[ $OW_HTTP == 2?? ]]
}

# Runs untraced. The header comes from a here-document, never from the command line.
ow_vercel_curl() {
  local url=$1
  shift
  curl "$@" --config - 2>"$OW_TMP/vercel.err" <<CONFIG
url = "$url"
header = "Authorization: Bearer ${VERCEL_TOKEN}"
CONFIG
}

# ow_vercel_transient: was the last answer worth retrying (no answer, 429, 5xx)?
ow_vercel_transient() { [[ $OW_HTTP == 000 || $OW_HTTP == 429 || $OW_HTTP == 5?? ]]; }

# ow_vercel_get URL: a read, retried up to OW_RETRIES times while the answer is transient,
# after Retry-After (refused when it asks for more than OPSWATCH_RETRY_MAX_WAIT) or the
# backoff. Returns 0 on 2xx, 1 otherwise (the last answer stays in OW_HTTP).
ow_vercel_get() {
  local attempt=0 wait wait_us max_us
  ow_to_us max_us "$OW_RETRY_MAX_WAIT"
  while :; do
    ow_vercel_call GET "$1" && return 0
    ow_vercel_transient || return 1
    ((attempt < OW_RETRIES)) || return 1
    attempt=$((attempt + 1))
    ow_backoff wait "$attempt" "$OW_RETRY_AFTER"
    ow_to_us wait_us "$wait"
    if ((wait_us > max_us)); then
      ow_info "Vercel API answered $(ow_vercel_error) and asks to wait ${wait}s, more than" \
        "OPSWATCH_RETRY_MAX_WAIT=${OW_RETRY_MAX_WAIT}s: not retrying"
      return 1
    fi
    ow_info "Vercel API answered $(ow_vercel_error); retry $attempt of $OW_RETRIES in ${wait}s" \
      "${OW_RETRY_AFTER:+(Retry-After)}"
    sleep "$wait"
  done
}

# The error of the last failed call, for messages.
ow_vercel_error() {
  local message=""
  if [[ $OW_HTTP == 000 ]]; then
    message=$(tail -n 1 "$OW_TMP/vercel.err" 2>/dev/null)
    ((OW_CURL_RC == 28)) && message="no answer within ${OW_HTTP_TIMEOUT}s"
  else
    message=$(jq -r '.error | "\(.code // "error"): \(.message // "")"' "$OW_TMP/vercel.json" 2>/dev/null) ||
      message=""
  fi
  printf 'HTTP %s%s' "$OW_HTTP" "${message:+ ($message)}"
}

# ow_vercel_fail WHAT: exit for a failed call: 2 when the token or project was rejected
# (a configuration problem), 1 otherwise.
ow_vercel_fail() {
  local code=$OW_EXIT_FAILED
  [[ $OW_HTTP == 401 || $OW_HTTP == 403 ]] && code=$OW_EXIT_USAGE
  ow_die "$code" "Vercel API: $1 failed: $(ow_vercel_error)"
}

# ow_vercel_read_project [once]: GET the project with its alias-job state, retried ("once":
# a single try, for polls). Sets OW_PROJECT_ID, OW_PROJECT_NAME, OW_SERVING,
# OW_SERVING_CREATED and OW_ALIAS_*. Returns 1 when the call failed.
ow_vercel_read_project() {
  local id name serving created
  ow_vercel_url "/v9/projects/$OW_PROJECT_ID" rollbackInfo=true
  if [[ ${1:-} == once ]]; then
    ow_vercel_call GET "$OW_URL" || return 1
  else
    ow_vercel_get "$OW_URL" || return 1
  fi
  IFS=$'\x1f' read -r id name serving created OW_ALIAS_TYPE OW_ALIAS_STATUS OW_ALIAS_FROM \
    OW_ALIAS_TO OW_ALIAS_AT < <(jq -r '[(.id // ""), (.name // ""), (.targets.production.id // ""),
      (.targets.production.createdAt // .targets.production.created // 0),
      (.lastAliasRequest.type // ""), (.lastAliasRequest.jobStatus // ""),
      (.lastAliasRequest.fromDeploymentId // ""), (.lastAliasRequest.toDeploymentId // ""),
      (.lastAliasRequest.requestedAt // 0)] | map(tostring | gsub("[\r\n]"; " ")) | join("\u001f")' \
    "$OW_TMP/vercel.json" 2>/dev/null) || true
  [[ $created =~ ^[0-9]+$ ]] || created=0
  [[ $OW_ALIAS_AT =~ ^[0-9]+$ ]] || OW_ALIAS_AT=0
  ow_vercel_require_id "the project id" "$id"
  OW_PROJECT_ID=$id OW_PROJECT_NAME=$name OW_SERVING=$serving OW_SERVING_CREATED=$created
  return 0
}

# Finds the project (resolving a name to its id once), the deployment that serves
# production (OW_SERVING) and whether production is rolled back. Exit 2 when nothing serves.
ow_vercel_find_serving() {
  ow_vercel_url "/v9/projects/$OW_PROJECT_REF" rollbackInfo=true
  ow_vercel_show GET "$OW_URL"
  if ((!OW_VERCEL_READ)); then
    OW_SERVING='<the deployment serving production>'
    OW_PROJECT_NAME='<project name>'
    return 0
  fi
  ow_vercel_read_project || ow_vercel_fail "reading project $OW_PROJECT_REF"
  [[ $OW_PROJECT_NAME =~ ^[A-Za-z0-9._-]+$ ]] ||
    ow_die "$OW_EXIT_FAILED" "Vercel API: project $OW_PROJECT_REF has no usable name ('$OW_PROJECT_NAME')"
  [[ $OW_PROJECT_ID == "$OW_PROJECT_REF" ]] ||
    ow_info "project $OW_PROJECT_REF is $OW_PROJECT_ID (every further call uses the id)"
  [[ -n $OW_SERVING ]] ||
    ow_die "$OW_EXIT_USAGE" "project $OW_PROJECT_REF has no production deployment (targets.production)"
  ow_vercel_require_id "the deployment serving production" "$OW_SERVING"
  OW_ALIAS_BEFORE=$OW_ALIAS_AT
  OW_ROLLED_BACK=0
  if [[ $OW_ALIAS_TYPE == rollback && $OW_ALIAS_TO == "$OW_SERVING" && $OW_ALIAS_STATUS == succeeded ]]; then
    OW_ROLLED_BACK=1
  fi
  ow_info "serving production: $OW_SERVING"
  if ((OW_ROLLED_BACK)); then
    ow_warn "production is an instant rollback (from $OW_ALIAS_FROM to $OW_SERVING): Vercel does not" \
      "assign new production deployments to the production domains until one is promoted"
  fi
}

# Lists recent production deployments of the project, newest first, normalised to
# [{id, idok, name, url, state, created, candidate, sha, ref, action, run, source}] in
# $OW_TMP/deployments.json. "candidate" is Vercel's isRollbackCandidate (it has served
# production); ids that could not go into a path are kept for the table but never chosen.
ow_vercel_list_production() {
  local url
  ow_vercel_url /v6/deployments "projectId=$OW_PROJECT_ID&target=production&limit=$OW_VERCEL_LIMIT"
  url=$OW_URL
  ow_vercel_show GET "$url"
  ((OW_VERCEL_READ)) || return 0
  ow_vercel_get "$url" || ow_vercel_fail "listing deployments"
  jq '[.deployments // [] | .[]
        | {id: ((.uid // .id // "") | tostring), name: (.name // ""), url: (.url // ""),
           state: (.readyState // .state // "UNKNOWN"), created: (.created // .createdAt // 0),
           target: (.target // ""), candidate: (.isRollbackCandidate == true),
           sha: ((.meta.githubCommitSha // .meta.gitlabCommitSha // .meta.bitbucketCommitSha // "")[0:7]),
           ref: (.meta.githubCommitRef // .meta.gitlabCommitRef // .meta.bitbucketCommitRef // ""),
           action: (.meta.action // ""), run: (.meta.opswatchRun // ""),
           source: (.meta.opswatchSource // "")}
        | .idok = (.id | test("^[A-Za-z0-9_-]{1,128}$"))
        | select(.target == "production" or .target == "")]
      | sort_by(-.created)' "$OW_TMP/vercel.json" >"$OW_TMP/deployments.json" 2>/dev/null ||
    ow_die "$OW_EXIT_FAILED" "Vercel API: unexpected answer to the deployment list (no deployments array)"
  if jq -e 'any(.[]; .idok | not)' "$OW_TMP/deployments.json" >/dev/null; then
    ow_warn "the deployment list holds ids that are not valid Vercel ids: they are shown but never used"
  fi
}

# Prints the normalised deployment list as a table; MARKS is "id=label ..." to annotate rows.
ow_vercel_print_deployments() {
  local marks=" ${1:-} " created id state cand sha url mark rows=0
  printf '    %-17s  %-28s  %-9s  %-9s  %-7s  %s\n' "CREATED (UTC)" ID STATE ROLLBACK? COMMIT URL
  while IFS=$'\x1f' read -r created id state cand sha url; do
    rows=$((rows + 1))
    mark=""
    [[ $marks == *" $id="* ]] && mark=${marks#*" $id="} && mark="  <- ${mark%% *}"
    ow_clean id "$id"
    ow_clean state "$state"
    ow_clean url "$url"
    ow_clean sha "$sha"
    printf '    %-17s  %-28s  %-9s  %-9s  %-7s  %s%s\n' "$created" "$id" "$state" "$cand" "${sha:--}" "$url" "$mark"
  done < <(jq -r '.[] | [(.created / 1000 | floor | strftime("%Y-%m-%d %H:%M")), .id, .state,
                  (if .candidate then "yes" else "no" end), .sha, .url]
                  | map(tostring | gsub("[\r\n\t\u001f]"; " ")) | join("\u001f")' \
    "$OW_TMP/deployments.json")
  ((rows > 0)) || ow_info "(no production deployments)"
}

# ow_vercel_field ID FIELD: a field of a listed deployment.
ow_vercel_field() {
  jq -r --arg id "$1" --arg f "$2" '[.[] | select(.id == $id)][0][$f] | if . == null then empty else tostring end' \
    "$OW_TMP/deployments.json"
}

# ow_vercel_get_deployment ID: GET /v13/deployments/ID (retried) into $OW_TMP/vercel.json.
ow_vercel_get_deployment() {
  ow_vercel_require_id "deployment" "$1"
  ow_vercel_url "/v13/deployments/$1"
  ow_vercel_get "$OW_URL"
}

# ------------------------------------------------------------------------ alias jobs
# Rollbacks and promotions move the production domains in a job that Vercel reports as
# the project's lastAliasRequest {type, jobStatus, fromDeploymentId, toDeploymentId,
# requestedAt}: the status the CLI's `vercel rollback` / `vercel promote` poll.

# Poll check: 0 when our job (TYPE to TARGET, requested after OW_ALIAS_BEFORE) succeeded or
# was skipped, 2 when it failed, 1 while it is pending or in progress (or not yet listed).
ow_vercel_alias_check() {
  local type=$1 target=$2 seen
  if ! ow_vercel_read_project once; then
    ow_vercel_transient || {
      ow_error "Vercel API: reading the project failed: $(ow_vercel_error)"
      return 2
    }
    OW_POLL_DELAY=$OW_RETRY_AFTER
    seen="project read answered $(ow_vercel_error); retrying"
  elif [[ $OW_ALIAS_TYPE != "$type" || $OW_ALIAS_TO != "$target" ]] || ((OW_ALIAS_AT <= OW_ALIAS_BEFORE)); then
    seen="waiting for Vercel to list the $type job"
  else
    seen="$type job: $OW_ALIAS_STATUS"
  fi
  if [[ $seen != "$OW_DEPLOY_SEEN" ]]; then
    ow_info "$seen"
    OW_DEPLOY_SEEN=$seen
  fi
  [[ $seen == "$type job: "* ]] || return 1
  case $OW_ALIAS_STATUS in
    succeeded | skipped) return 0 ;;
    pending | in-progress) return 1 ;;
    *) return 2 ;;
  esac
}

# Prints the aliases a failed job could not move (best effort; the CLI shows the same).
ow_vercel_print_failed_aliases() {
  local type=$1 line
  ow_vercel_url "/v9/projects/$OW_PROJECT_ID/$type/aliases" "failedOnly=true&limit=20"
  ow_vercel_get "$OW_URL" || return 0
  while IFS= read -r line; do
    ow_info "  not moved: $line"
  done < <(jq -r '.aliases // [] | .[] | "\(.alias.alias // "?") (\(.status // "?"), still \(.alias.deploymentId // "?"))"
      | gsub("[\r\n]"; " ")' \
    "$OW_TMP/vercel.json" 2>/dev/null)
}

# ow_vercel_wait_alias_job TYPE TARGET: poll until the job succeeded (returns 0), failed
# (exit 1 at once, naming the aliases it could not move) or OW_PROMOTE_TIMEOUT passed (exit 1).
ow_vercel_wait_alias_job() {
  local type=$1 target=$2 rc=0
  ow_vercel_url "/v9/projects/$OW_PROJECT_ID" rollbackInfo=true
  ow_vercel_show GET "$OW_URL"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_PROMOTE_TIMEOUT}s until lastAliasRequest" \
      "($type to $target) has jobStatus succeeded; failed ends the wait at once"
    return 0
  fi
  OW_DEPLOY_SEEN=""
  ow_poll "$OW_PROMOTE_TIMEOUT" "$OW_INTERVAL" ow_vercel_alias_check "$type" "$target" || rc=$?
  case $rc in
    0)
      [[ $OW_ALIAS_STATUS == skipped ]] && ow_info "Vercel skipped the $type job (nothing to move)"
      ow_ok "$type job succeeded: production serves $target"
      ow_audit "wait=$type-job deployment=$target result=$OW_ALIAS_STATUS"
      ;;
    1)
      ow_audit "wait=$type-job deployment=$target result=timeout status=${OW_ALIAS_STATUS:-unlisted}"
      ow_die "$OW_EXIT_FAILED" "the $type job to $target has not finished after ${OW_PROMOTE_TIMEOUT}s" \
        "(${OW_DEPLOY_SEEN:-no status}); Vercel carries on with it: check 'vercel $type status'"
      ;;
    *)
      ow_error "the $type job to $target ended '${OW_ALIAS_STATUS:-unknown}': Vercel could not move" \
        "every production alias"
      [[ $OW_ALIAS_STATUS == failed ]] && ow_vercel_print_failed_aliases "$type"
      ow_audit "wait=$type-job deployment=$target result=${OW_ALIAS_STATUS:-error}"
      return 2
      ;;
  esac
}

# ------------------------------------------------------------------------ builds
# Poll check: 0 when deployment $1 is READY, 2 when it failed, 1 while it builds.
ow_vercel_ready_check() {
  local url state
  ow_vercel_url "/v13/deployments/$1"
  url=$OW_URL
  if ! ow_vercel_call GET "$url"; then
    if ! ow_vercel_transient; then
      ow_error "Vercel API: reading $1 failed: $(ow_vercel_error)"
      return 2
    fi
    OW_POLL_DELAY=$OW_RETRY_AFTER
    ow_info "deployment $1: API answered $(ow_vercel_error); retrying${OW_RETRY_AFTER:+ after ${OW_RETRY_AFTER}s (Retry-After)}"
    return 1
  fi
  state=$(jq -r '.readyState // .state // "UNKNOWN" | tostring' "$OW_TMP/vercel.json" 2>/dev/null) || state=UNKNOWN
  if [[ $state != "$OW_DEPLOY_SEEN" ]]; then
    ow_info "deployment $1: $state"
    OW_DEPLOY_SEEN=$state
  fi
  case $state in
    READY) return 0 ;;
    ERROR | CANCELED | DELETED) return 2 ;;
    *) return 1 ;;
  esac
}

# ow_vercel_cancel ID: PATCH /v12/deployments/ID/cancel; 0 when Vercel reports it CANCELED.
ow_vercel_cancel() {
  local id=$1 state
  ow_vercel_url "/v12/deployments/$id/cancel"
  ow_vercel_show PATCH "$OW_URL"
  if ow_vercel_call PATCH "$OW_URL"; then
    state=$(jq -r '.readyState // .status // .state // "" | tostring' "$OW_TMP/vercel.json" 2>/dev/null) || state=""
    ow_audit "action=cancel deployment=$id http=$OW_HTTP state=$state"
    [[ -z $state || $state == CANCELED ]] && return 0
  else
    ow_audit "action=cancel deployment=$id result=failed http=$OW_HTTP"
    ow_error "Vercel API: cancelling $id failed: $(ow_vercel_error)"
  fi
  # Not confirmed: read what it is now.
  ow_vercel_get_deployment "$id" || return 1
  state=$(jq -r '.readyState // .state // "UNKNOWN" | tostring' "$OW_TMP/vercel.json" 2>/dev/null)
  OW_DEPLOY_SEEN=$state
  [[ $state == CANCELED ]]
}

# A build outlasted --build-timeout: left alone it would go live when it finishes, so
# cancel it (asked first unless --yes; not with --no-cancel). Always exits 1.
ow_vercel_build_timed_out() {
  local id=$1 previous=$2 what="production still serves $2"
  ow_audit "wait=ready deployment=$id result=timeout state=$OW_DEPLOY_SEEN"
  ow_error "deployment $id is not READY after ${OW_BUILD_TIMEOUT}s (last state: ${OW_DEPLOY_SEEN:-unknown})." \
    "Left alone, Vercel finishes the build and it then takes over production."
  if ((OW_CANCEL_ON_TIMEOUT)) && ow_ask "Cancel deployment $id so that it never goes live?"; then
    if ow_vercel_cancel "$id"; then
      ow_die "$OW_EXIT_FAILED" "cancelled $id: it will not go live; $what. Nothing else changed."
    fi
    if [[ $OW_DEPLOY_SEEN == READY ]]; then
      ow_grafana_annotate "$OW_ANNOTATE_ACTION" "$OW_ANNOTATE_WHAT: $previous -> $id (finished during the cancel)"
      ow_die "$OW_EXIT_FAILED" "$id finished building before the cancel took effect: it is READY and" \
        "goes live (or already serves); verify the app now"
    fi
    ow_die "$OW_EXIT_FAILED" "could not cancel $id (state ${OW_DEPLOY_SEEN:-unknown}): it WILL STILL GO LIVE" \
      "when its build finishes; cancel it in the Vercel dashboard (Deployments > $id > Cancel)"
  fi
  ow_grafana_annotate "$OW_ANNOTATE_ACTION" "$OW_ANNOTATE_WHAT: $previous -> $id (build still running, not cancelled)"
  ow_die "$OW_EXIT_FAILED" "$id was NOT cancelled: it WILL STILL GO LIVE when its build finishes," \
    "replacing $previous. Cancel it in the Vercel dashboard or with: curl -X PATCH" \
    "$OW_VERCEL_API/v12/deployments/$id/cancel (bearer token)"
}

# ow_vercel_wait_ready ID PREVIOUS: poll until READY within OW_BUILD_TIMEOUT; exit 1 otherwise.
ow_vercel_wait_ready() {
  local id=$1 rc=0
  ow_vercel_url "/v13/deployments/$id"
  ow_vercel_show GET "$OW_URL"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_BUILD_TIMEOUT}s until readyState is READY;" \
      "on a timeout cancel it (PATCH /v12/deployments/ID/cancel)"
    return 0
  fi
  OW_DEPLOY_SEEN=""
  ow_poll "$OW_BUILD_TIMEOUT" "$OW_INTERVAL" ow_vercel_ready_check "$id" || rc=$?
  case $rc in
    0) ow_ok "deployment $id is READY" ;;
    1) ow_vercel_build_timed_out "$id" "$2" ;;
    *)
      ow_audit "wait=ready deployment=$id result=failed state=$OW_DEPLOY_SEEN"
      ow_die "$OW_EXIT_FAILED" "deployment $id ended ${OW_DEPLOY_SEEN:-in an error}; production still" \
        "serves $2 (see the build logs in the Vercel dashboard)"
      ;;
  esac
  ow_audit "wait=ready deployment=$id result=READY"
}

# Poll check: 0 when deployment $1 has its aliases (aliasAssigned, as the CLI waits for),
# 2 on aliasError, 1 while neither.
ow_vercel_assigned_check() {
  local assigned alias_error
  ow_vercel_url "/v13/deployments/$1"
  if ! ow_vercel_call GET "$OW_URL"; then
    ow_vercel_transient || return 2
    OW_POLL_DELAY=$OW_RETRY_AFTER
    return 1
  fi
  IFS=$'\x1f' read -r assigned alias_error < <(jq -r '[(.aliasAssigned // false | tostring),
    (.aliasError | if . == null then "" else (.message // .code // tostring) end)]
    | map(gsub("[\r\n]"; " ")) | join("\u001f")' \
    "$OW_TMP/vercel.json" 2>/dev/null) || true
  if [[ -n $alias_error ]]; then
    OW_DEPLOY_SEEN="aliasError: $alias_error"
    return 2
  fi
  OW_DEPLOY_SEEN="aliasAssigned: $assigned"
  [[ $assigned != false && $assigned != 0 && -n $assigned ]]
}

# ow_vercel_wait_serving ID PREVIOUS: poll until ID has the production aliases.
ow_vercel_wait_serving() {
  local id=$1 rc=0
  ow_vercel_url "/v13/deployments/$id"
  ow_vercel_show GET "$OW_URL"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_PROMOTE_TIMEOUT}s until aliasAssigned is set (aliasError fails at once)"
    return 0
  fi
  OW_DEPLOY_SEEN=""
  ow_poll "$OW_PROMOTE_TIMEOUT" "$OW_INTERVAL" ow_vercel_assigned_check "$id" || rc=$?
  if ((rc == 2)); then
    ow_audit "wait=serving deployment=$id result=failed"
    ow_die "$OW_EXIT_FAILED" "$id is READY but Vercel could not assign the production domains" \
      "(${OW_DEPLOY_SEEN}); production still serves $2"
  elif ((rc != 0)); then
    ow_audit "wait=serving deployment=$id result=timeout"
    ow_die "$OW_EXIT_FAILED" "$id is READY but does not serve production after ${OW_PROMOTE_TIMEOUT}s" \
      "(still $2). After an instant rollback Vercel stops assigning production domains to new" \
      "deployments: promote it with runbooks/rollback.sh --undo --to $id"
  fi
  ow_ok "$id serves production"
  ow_audit "wait=serving deployment=$id result=serving"
}

# ------------------------------------------------------------------------ redeploy
# Poll check: 0 when a listed deployment carries our run id (meta.opswatchRun).
ow_vercel_find_run_check() {
  local url found
  ow_vercel_url /v6/deployments "projectId=$OW_PROJECT_ID&target=production&limit=$OW_VERCEL_LIMIT"
  url=$OW_URL
  if ! ow_vercel_call GET "$url"; then
    OW_POLL_DELAY=$OW_RETRY_AFTER
    return 1
  fi
  found=$(jq -r --arg run "$1" '[.deployments // [] | .[] | select(.meta.opswatchRun == $run)
    | (.uid // .id // "" | tostring)][0] // ""' "$OW_TMP/vercel.json" 2>/dev/null) || found=""
  [[ -n $found ]] || return 1
  OW_NEW_DEPLOYMENT=$found
  return 0
}

# The create request got no answer (or a 5xx): Vercel may still have created the
# deployment. Look it up by our run id before reporting a failure.
ow_vercel_lookup_created() {
  local rc=0
  ow_warn "the redeploy request got $(ow_vercel_error): looking up whether Vercel created it" \
    "(meta.opswatchRun=$OW_RUN_ID) for up to ${OW_CREATE_LOOKUP_TIMEOUT}s before reporting a failure"
  ow_poll "$OW_CREATE_LOOKUP_TIMEOUT" "$OW_INTERVAL" ow_vercel_find_run_check "$OW_RUN_ID" || rc=$?
  if ((rc != 0)); then
    ow_audit "action=redeploy source=$OW_SERVING run=$OW_RUN_ID result=not-found"
    ow_die "$OW_EXIT_FAILED" "Vercel has not created a deployment for this request (looked for" \
      "${OW_CREATE_LOOKUP_TIMEOUT}s). Should one appear later, a re-run of this script waits for it" \
      "instead of creating a second one."
  fi
  ow_vercel_require_id "the new deployment" "$OW_NEW_DEPLOYMENT"
  ow_ok "found it: Vercel created $OW_NEW_DEPLOYMENT (the answer came too late)"
}

# A redeploy of OW_SERVING started by an earlier run of these scripts that is still
# building, into OW_NEW_DEPLOYMENT; 1 when there is none.
ow_vercel_find_inflight() {
  local found
  found=$(jq -r --arg src "$OW_SERVING" '[.[] | select(.idok and .run != ""
      and .source == $src and (.state | IN("QUEUED", "BUILDING", "INITIALIZING")))][0].id // ""' \
    "$OW_TMP/deployments.json")
  [[ -n $found ]] || return 1
  OW_NEW_DEPLOYMENT=$found
}

# ow_vercel_redeploy_current WHY ACTION: the shared flow of cache-flush and service-restart:
# find the deployment that serves production, redeploy it (a fresh build of the same commit
# and fresh function instances, so in-memory state starts empty), wait until the new one is
# READY and serves production. Sets OW_NEW_DEPLOYMENT. ACTION names the annotation.
ow_vercel_redeploy_current() {
  local why=$1 body url
  OW_ANNOTATE_ACTION=$2
  ow_step "1. Find the production deployment that serves now"
  ow_vercel_find_serving
  ow_vercel_list_production
  ((OW_VERCEL_READ)) && ow_vercel_print_deployments "$OW_SERVING=serving"
  OW_ANNOTATE_WHAT="$2 of $OW_PROJECT_NAME by $(ow_who) ($OW_SCRIPT): production"

  ow_step "2. Redeploy it to production ($why)"
  OW_NEW_DEPLOYMENT='<new deployment id>'
  if ((OW_VERCEL_READ)) && ow_vercel_find_inflight; then
    ow_warn "a redeploy of $OW_SERVING started by an earlier run is still" \
      "$(ow_vercel_field "$OW_NEW_DEPLOYMENT" state): $OW_NEW_DEPLOYMENT. Waiting for it instead of" \
      "creating a second deployment."
    ow_audit "action=adopt source=$OW_SERVING new=$OW_NEW_DEPLOYMENT"
  else
    printf -v OW_RUN_ID 'ow-%(%Y%m%dT%H%M%S)T-%s-%s' -1 "$$" "$RANDOM"
    body=$(jq -nc --arg name "$OW_PROJECT_NAME" --arg src "$OW_SERVING" --arg run "$OW_RUN_ID" \
      '{name: $name, deploymentId: $src, target: "production",
        meta: {action: "redeploy", opswatchRun: $run, opswatchSource: $src}}')
    ow_vercel_url /v13/deployments forceNew=1
    url=$OW_URL
    if ((OW_DRY_RUN)); then
      ow_vercel_show POST "$url" "$body"
    else
      ow_confirm "Redeploy $OW_SERVING to production (a new build that replaces it when READY)?"
      ow_vercel_show POST "$url" "$body"
      if ow_vercel_call POST "$url" "$body"; then
        OW_NEW_DEPLOYMENT=$(jq -r '.id // .uid // "" | tostring' "$OW_TMP/vercel.json" 2>/dev/null) || OW_NEW_DEPLOYMENT=""
        ow_vercel_require_id "the new deployment" "$OW_NEW_DEPLOYMENT"
      elif ow_vercel_transient; then
        ow_vercel_lookup_created
      else
        ow_audit "action=redeploy source=$OW_SERVING result=failed http=$OW_HTTP"
        ow_vercel_fail "redeploying $OW_SERVING"
      fi
      ow_ok "new deployment $OW_NEW_DEPLOYMENT created from $OW_SERVING"
      ow_audit "action=redeploy source=$OW_SERVING new=$OW_NEW_DEPLOYMENT run=$OW_RUN_ID http=$OW_HTTP"
    fi
  fi

  ow_step "3. Wait until the new deployment is READY and serves production"
  ow_vercel_wait_ready "$OW_NEW_DEPLOYMENT" "$OW_SERVING"
  ow_vercel_wait_serving "$OW_NEW_DEPLOYMENT" "$OW_SERVING"
  ow_grafana_annotate "$OW_ANNOTATE_ACTION" "$OW_ANNOTATE_WHAT $OW_SERVING -> $OW_NEW_DEPLOYMENT"
}
