# shellcheck shell=bash
# Vercel REST API client for the runbooks (sourced after common.sh and health.sh).
#
# Endpoints (https://vercel.com/docs/rest-api/deployments and .../projects):
#   GET  /v6/deployments?projectId=&target=production&limit=   list deployments
#   GET  /v13/deployments/{idOrUrl}                            get one (readyState)
#   POST /v13/deployments?forceNew=1  {name, deploymentId, target}  redeploy
#   POST /v10/projects/{projectId}/promote/{deploymentId}     promote (no rebuild)
#   GET  /v9/projects/{idOrName}                               name, targets.production.id
# Every call adds teamId=$VERCEL_TEAM_ID when it is set.
#
# "The deployment that serves production" is the project's targets.production.id, not the
# newest READY deployment: after a rollback the newest one no longer serves.
#
# The token reaches curl through a here-document read with --config -, so it is never on
# a command line (ps) or in a bash -x trace.

OW_VERCEL_API=${VERCEL_API_URL:-https://api.vercel.com}
OW_VERCEL_LIMIT=${OPSWATCH_DEPLOYMENT_LIMIT:-20}
OW_BUILD_TIMEOUT=${OPSWATCH_BUILD_TIMEOUT:-900}
OW_PROMOTE_TIMEOUT=${OPSWATCH_PROMOTE_TIMEOUT:-120}
OW_SERVING=""      # id of the deployment serving production
OW_PROJECT_NAME="" # the project's name (a redeploy needs it)
OW_SERVING_SEEN=""
OW_VERCEL_READ=0  # 1 when API look-ups run (always in a live run; in dry-run only with a token)
OW_HTTP=""        # HTTP code of the last API call
OW_URL=""         # set by ow_vercel_url
OW_PROJECT=""     # VERCEL_PROJECT_ID, or a placeholder in a dry-run without it
OW_DEPLOY_SEEN=""

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
  if ow_is_set VERCEL_PROJECT_ID && [[ ! $VERCEL_PROJECT_ID =~ ^[A-Za-z0-9._-]+$ ]]; then
    ow_die "$OW_EXIT_USAGE" "VERCEL_PROJECT_ID has unexpected characters: '$VERCEL_PROJECT_ID'"
  fi
  if ow_is_set VERCEL_TEAM_ID && [[ ! $VERCEL_TEAM_ID =~ ^[A-Za-z0-9._-]+$ ]]; then
    ow_die "$OW_EXIT_USAGE" "VERCEL_TEAM_ID has unexpected characters: '$VERCEL_TEAM_ID'"
  fi
  [[ $OW_VERCEL_API =~ ^https?://[^[:space:]]+$ ]] ||
    ow_die "$OW_EXIT_USAGE" "VERCEL_API_URL must be an http(s) URL, got '$OW_VERCEL_API'"
  OW_VERCEL_API=${OW_VERCEL_API%/}
  OW_PROJECT=${VERCEL_PROJECT_ID:-\$VERCEL_PROJECT_ID}
  [[ $OW_VERCEL_LIMIT =~ ^[1-9][0-9]?$|^100$ ]] ||
    ow_die "$OW_EXIT_USAGE" "OPSWATCH_DEPLOYMENT_LIMIT must be 1-100, got '$OW_VERCEL_LIMIT'"
  ow_check_seconds OPSWATCH_BUILD_TIMEOUT "$OW_BUILD_TIMEOUT"
  ow_check_seconds OPSWATCH_PROMOTE_TIMEOUT "$OW_PROMOTE_TIMEOUT"
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

# The help text of the Vercel options and settings.
ow_vercel_help() {
  cat <<HELP
Vercel options:
  --build-timeout SECONDS    redeploys: how long to wait for READY (default $OW_BUILD_TIMEOUT,
                             env OPSWATCH_BUILD_TIMEOUT); ERROR or CANCELED fails at once
  --promote-timeout SECONDS  how long to wait until the new deployment serves production
                             (default $OW_PROMOTE_TIMEOUT, env OPSWATCH_PROMOTE_TIMEOUT)

Environment:
  VERCEL_TOKEN         Vercel access token (not needed with --dry-run)
  VERCEL_PROJECT_ID    the project id (prj_...) or name
  VERCEL_TEAM_ID       optional, sent as teamId on every API call
  VERCEL_API_URL       default https://api.vercel.com
  PRODUCTION_URL       the app's base URL; health is \$PRODUCTION_URL/api/health
  OPSWATCH_DEPLOYMENT_LIMIT  how many recent production deployments to list (default $OW_VERCEL_LIMIT)
HELP
}

# Runs untraced: the token must fit in a curl config string as it is.
ow_vercel_check_token() {
  [[ $VERCEL_TOKEN =~ ^[A-Za-z0-9_.-]+$ ]] ||
    ow_die "$OW_EXIT_USAGE" "VERCEL_TOKEN has unexpected characters (expected letters, digits, _ . -)"
}

# ow_vercel_url PATH [QUERY]: the full API URL into OW_URL, with teamId added when set.
ow_vercel_url() {
  local query=${2:-}
  if ow_is_set VERCEL_TEAM_ID; then
    query+="${query:+&}teamId=$VERCEL_TEAM_ID"
  fi
  OW_URL="$OW_VERCEL_API$1${query:+?$query}"
}

# ow_vercel_show METHOD URL [BODY]: print the curl command, with the token masked.
ow_vercel_show() {
  local cmd=(curl --silent --request "$1" --header 'Authorization: Bearer ***')
  [[ -n ${3:-} ]] && cmd+=(--header 'Content-Type: application/json' --data "$3")
  ow_show_cmd "${cmd[@]}" "$2"
}

# ow_vercel_call METHOD URL [BODY]: one request. The response body goes to
# $OW_TMP/vercel.json and the HTTP code to OW_HTTP. Returns 0 on 2xx, 1 otherwise.
ow_vercel_call() {
  local method=$1 url=$2 body=${3:-} out="$OW_TMP/vercel.json" args
  args=(--silent --show-error --max-time "$OW_HTTP_TIMEOUT" --request "$method"
    --output "$out" --write-out '%{http_code}')
  [[ -n $body ]] && args+=(--header 'Content-Type: application/json' --data-binary "$body")
  : >"$out"
  OW_HTTP=$(ow_untraced ow_vercel_curl "$url" "${args[@]}") || OW_HTTP=000
  [[ $OW_HTTP == 2?? ]]
}

# Runs untraced. The header comes from a here-document, never from the command line.
ow_vercel_curl() {
  local url=$1
  shift
  curl "$@" --config - -- "$url" 2>"$OW_TMP/vercel.err" <<CONFIG
header = "Authorization: Bearer ${VERCEL_TOKEN}"
CONFIG
}

# The error of the last failed call, for messages.
ow_vercel_error() {
  local message=""
  if [[ $OW_HTTP == 000 ]]; then
    message=$(tail -n 1 "$OW_TMP/vercel.err" 2>/dev/null)
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

# Lists recent production deployments of the project, newest first, normalised to
# [{id, name, url, state, created, sha, ref}] in $OW_TMP/deployments.json.
ow_vercel_list_production() {
  local url
  ow_vercel_url /v6/deployments "projectId=$OW_PROJECT&target=production&limit=$OW_VERCEL_LIMIT"
  url=$OW_URL
  ow_vercel_show GET "$url"
  ((OW_VERCEL_READ)) || return 0
  ow_vercel_call GET "$url" || ow_vercel_fail "listing deployments"
  jq '[.deployments // [] | .[]
        | {id: (.uid // .id), name: (.name // ""), url: (.url // ""),
           state: (.readyState // .state // "UNKNOWN"), created: (.created // .createdAt // 0),
           target: (.target // ""),
           sha: ((.meta.githubCommitSha // .meta.gitlabCommitSha // .meta.bitbucketCommitSha // "")[0:7]),
           ref: (.meta.githubCommitRef // .meta.gitlabCommitRef // .meta.bitbucketCommitRef // "")}
        | select(.target == "production" or .target == "")]
      | sort_by(-.created)' "$OW_TMP/vercel.json" >"$OW_TMP/deployments.json" 2>/dev/null ||
    ow_die "$OW_EXIT_FAILED" "Vercel API: unexpected answer to the deployment list (no deployments array)"
}

# Prints the normalised deployment list as a table; MARKS is "id=label ..." to annotate rows.
ow_vercel_print_deployments() {
  local marks=" ${1:-} " created id state sha url mark rows=0
  printf '    %-17s  %-28s  %-9s  %-7s  %s\n' "CREATED (UTC)" ID STATE COMMIT URL
  while IFS=$'\t' read -r created id state sha url; do
    rows=$((rows + 1))
    mark=""
    [[ $marks == *" $id="* ]] && mark=${marks#*" $id="} && mark="  <- ${mark%% *}"
    printf '    %-17s  %-28s  %-9s  %-7s  %s%s\n' "$created" "$id" "$state" "${sha:--}" "$url" "$mark"
  done < <(jq -r '.[] | [(.created / 1000 | floor | strftime("%Y-%m-%d %H:%M")), .id, .state, .sha, .url]
                  | @tsv' "$OW_TMP/deployments.json")
  ((rows > 0)) || ow_info "(no production deployments)"
}

# Finds the deployment serving production (OW_SERVING) and the project name
# (OW_PROJECT_NAME) from GET /v9/projects/{id}. Exit 2 when nothing serves.
ow_vercel_find_serving() {
  local url
  ow_vercel_url "/v9/projects/$OW_PROJECT"
  url=$OW_URL
  ow_vercel_show GET "$url"
  if ((!OW_VERCEL_READ)); then
    OW_SERVING='<the deployment serving production>'
    OW_PROJECT_NAME='<project name>'
    return 0
  fi
  ow_vercel_call GET "$url" || ow_vercel_fail "reading project $OW_PROJECT"
  OW_PROJECT_NAME="" OW_SERVING=""
  IFS=$'\t' read -r OW_PROJECT_NAME OW_SERVING < <(jq -r \
    '[(.name // "" | tostring), (.targets.production.id // "" | tostring)] | @tsv' "$OW_TMP/vercel.json" 2>/dev/null) || true
  [[ $OW_PROJECT_NAME =~ ^[A-Za-z0-9._-]+$ ]] ||
    ow_die "$OW_EXIT_FAILED" "Vercel API: project $OW_PROJECT has no usable name ('$OW_PROJECT_NAME')"
  [[ $OW_SERVING =~ ^[A-Za-z0-9_-]+$ ]] ||
    ow_die "$OW_EXIT_USAGE" "project $OW_PROJECT has no production deployment (targets.production)"
  ow_info "serving production: $OW_SERVING"
}

# Poll check: 0 when deployment $1 serves production, 1 while it does not yet.
ow_vercel_serving_check() {
  local url serving
  ow_vercel_url "/v9/projects/$OW_PROJECT"
  url=$OW_URL
  if ! ow_vercel_call GET "$url"; then
    ow_info "project: API answered $(ow_vercel_error); retrying"
    return 1
  fi
  serving=$(jq -r '.targets.production.id // "none"' "$OW_TMP/vercel.json" 2>/dev/null) || serving=unknown
  if [[ $serving != "$OW_SERVING_SEEN" ]]; then
    ow_info "serving production: $serving"
    OW_SERVING_SEEN=$serving
  fi
  [[ $serving == "$1" ]]
}

# ow_vercel_wait_serving ID HINT: poll until ID serves production (its aliases moved) within
# OW_PROMOTE_TIMEOUT; exit 1 with HINT otherwise.
ow_vercel_wait_serving() {
  local id=$1 hint=$2 rc=0
  ow_vercel_url "/v9/projects/$OW_PROJECT"
  ow_vercel_show GET "$OW_URL"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_PROMOTE_TIMEOUT}s until targets.production.id is $id"
    return 0
  fi
  OW_SERVING_SEEN=""
  ow_poll "$OW_PROMOTE_TIMEOUT" "$OW_INTERVAL" ow_vercel_serving_check "$id" || rc=$?
  if ((rc != 0)); then
    ow_audit "wait=serving deployment=$id result=timeout serving=$OW_SERVING_SEEN"
    ow_die "$OW_EXIT_FAILED" "$id does not serve production after ${OW_PROMOTE_TIMEOUT}s" \
      "(still ${OW_SERVING_SEEN:-unknown}). $hint"
  fi
  ow_ok "$id serves production"
  ow_audit "wait=serving deployment=$id result=serving"
}

# ow_vercel_field ID FIELD: a field of a listed deployment.
ow_vercel_field() {
  jq -r --arg id "$1" --arg f "$2" '[.[] | select(.id == $id)][0][$f] // empty' "$OW_TMP/deployments.json"
}

# Poll check: 0 when deployment $1 is READY, 2 when it failed, 1 while it builds.
ow_vercel_ready_check() {
  local url state
  ow_vercel_url "/v13/deployments/$1"
  url=$OW_URL
  if ! ow_vercel_call GET "$url"; then
    [[ $OW_HTTP == 401 || $OW_HTTP == 403 || $OW_HTTP == 404 ]] && {
      ow_error "Vercel API: reading $1 failed: $(ow_vercel_error)"
      return 2
    }
    ow_info "deployment $1: API answered $(ow_vercel_error); retrying"
    return 1
  fi
  state=$(jq -r '.readyState // .state // "UNKNOWN"' "$OW_TMP/vercel.json" 2>/dev/null) || state=UNKNOWN
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

# ow_vercel_wait_ready ID: poll until READY within OW_BUILD_TIMEOUT; exit 1 otherwise.
ow_vercel_wait_ready() {
  local id=$1 rc=0
  ow_vercel_url "/v13/deployments/$id"
  ow_vercel_show GET "$OW_URL"
  if ((OW_DRY_RUN)); then
    ow_would "poll it every ${OW_INTERVAL}s for up to ${OW_BUILD_TIMEOUT}s until readyState is READY"
    return 0
  fi
  OW_DEPLOY_SEEN=""
  ow_poll "$OW_BUILD_TIMEOUT" "$OW_INTERVAL" ow_vercel_ready_check "$id" || rc=$?
  case $rc in
    0) ow_ok "deployment $id is READY" ;;
    1)
      ow_audit "wait=ready deployment=$id result=timeout state=$OW_DEPLOY_SEEN"
      ow_die "$OW_EXIT_FAILED" "deployment $id is not READY after ${OW_BUILD_TIMEOUT}s (last state:" \
        "${OW_DEPLOY_SEEN:-unknown}); production still serves the previous deployment"
      ;;
    *)
      ow_audit "wait=ready deployment=$id result=failed state=$OW_DEPLOY_SEEN"
      ow_die "$OW_EXIT_FAILED" "deployment $id ended ${OW_DEPLOY_SEEN:-in an error}; production still" \
        "serves the previous deployment (see the build logs in the Vercel dashboard)"
      ;;
  esac
  ow_audit "wait=ready deployment=$id result=READY"
}

# ow_vercel_redeploy_current WHY: the shared flow of cache-flush and service-restart:
# find the deployment that serves production, redeploy it (a fresh build of the same commit
# and fresh function instances, so in-memory state starts empty), wait until the new one is
# READY and serves production. Sets OW_NEW_DEPLOYMENT to the new id.
ow_vercel_redeploy_current() {
  local why=$1 body url
  ow_step "1. Find the production deployment that serves now"
  ow_vercel_find_serving
  ow_vercel_list_production
  if ((OW_VERCEL_READ)); then
    ow_vercel_print_deployments "$OW_SERVING=serving"
  fi

  ow_step "2. Redeploy it to production ($why)"
  body=$(printf '{"name":"%s","deploymentId":"%s","target":"production"}' "$OW_PROJECT_NAME" "$OW_SERVING")
  ow_vercel_url /v13/deployments forceNew=1
  url=$OW_URL
  ow_vercel_show POST "$url" "$body"
  OW_NEW_DEPLOYMENT='<new deployment id>'
  if ((!OW_DRY_RUN)); then
    ow_confirm "Redeploy $OW_SERVING to production?"
    if ! ow_vercel_call POST "$url" "$body"; then
      ow_audit "action=redeploy source=$OW_SERVING result=failed http=$OW_HTTP"
      ow_vercel_fail "redeploying $OW_SERVING"
    fi
    OW_NEW_DEPLOYMENT=$(jq -r '.id // .uid // empty' "$OW_TMP/vercel.json" 2>/dev/null) || OW_NEW_DEPLOYMENT=""
    [[ $OW_NEW_DEPLOYMENT =~ ^[A-Za-z0-9_-]+$ ]] ||
      ow_die "$OW_EXIT_FAILED" "Vercel API: the redeploy answer has no deployment id"
    ow_ok "new deployment $OW_NEW_DEPLOYMENT created from $OW_SERVING"
    ow_audit "action=redeploy source=$OW_SERVING new=$OW_NEW_DEPLOYMENT http=$OW_HTTP"
  fi

  ow_step "3. Wait until the new deployment is READY and serves production"
  ow_vercel_wait_ready "$OW_NEW_DEPLOYMENT"
  ow_vercel_wait_serving "$OW_NEW_DEPLOYMENT" "After a rollback Vercel stops assigning production domains to new deployments: promote it with runbooks/rollback.sh --to $OW_NEW_DEPLOYMENT."
}
