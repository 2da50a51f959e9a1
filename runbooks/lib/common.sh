# shellcheck shell=bash
# shellcheck disable=SC2034 # the OW_ globals are read by the scripts that source this file
# Shared by the opswatch runbooks (sourced, never run): output, flags, consent, dry-run,
# polling, tool checks, the audit log and the xtrace guard for secrets.
#
# Conventions: functions are prefixed ow_, globals OW_. Functions that a poll or an `if`
# calls run without errexit (bash ignores `set -e` there), so they return their errors.
# Everything printed goes through ow_clean (terminal escapes and control characters from
# API answers never reach the terminal or the audit log), and every URL through ow_mask_url.

if ((BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 3))); then
  echo "ERROR ${0##*/} needs bash 4.3 or newer, this is $BASH_VERSION (macOS: brew install bash)" >&2
  exit 3
fi

shopt -s extglob

# ---------------------------------------------------------------------------- exit codes
OW_EXIT_OK=0      # done and verified
OW_EXIT_FAILED=1  # the change or its verification failed
OW_EXIT_USAGE=2   # usage or configuration error, or a refusal before anything changed
OW_EXIT_TOOL=3    # a required tool is missing

# ---------------------------------------------------------------------------- settings
# Flags override these; the environment sets the defaults (short values make tests fast).
OW_SCRIPT=${0##*/}
OW_DRY_RUN=0
OW_YES=0
OW_REQUIRE_HEALTHY=${OPSWATCH_REQUIRE_HEALTHY:-0}
OW_HEALTH_TIMEOUT=${OPSWATCH_HEALTH_TIMEOUT:-120}
OW_INTERVAL=${OPSWATCH_POLL_INTERVAL:-5}
OW_HTTP_TIMEOUT=${OPSWATCH_HTTP_TIMEOUT:-10}
OW_AUDIT_LOG=${OPSWATCH_AUDIT_LOG:-}
OW_TMP=""
OW_SHIFT=0
OW_VALUE=""

# The help text every runbook appends to its own.
ow_common_help() {
  cat <<HELP
Common options (any order; --flag VALUE or --flag=VALUE):
  --dry-run            print every command and change nothing. Needs no credentials; with
                       VERCEL_TOKEN and VERCEL_PROJECT_ID set it still reads the Vercel API
                       (GET only) so the plan can name the real deployments.
  -y, --yes            allow the steps that change production without asking. Without it
                       the script asks on a terminal and refuses (exit 2) otherwise.
  --timeout SECONDS    how long to poll the health endpoint (default ${OW_HEALTH_TIMEOUT},
                       env OPSWATCH_HEALTH_TIMEOUT)
  --interval SECONDS   pause between polls (default ${OW_INTERVAL}, env OPSWATCH_POLL_INTERVAL)
  --require-healthy    treat "degraded" as a failure (env OPSWATCH_REQUIRE_HEALTHY=1)
  --audit-log FILE     append what was done to FILE (env OPSWATCH_AUDIT_LOG)
  -h, --help           show this help

Health verification polls \$PRODUCTION_URL/api/health and reads the JSON "status":
healthy passes; degraded (HTTP 200, a check warns) passes with a warning naming the
checks, unless --require-healthy; unhealthy, any non-2xx answer, or a body without a
status keeps polling and fails at the timeout.

Output: colour only on a terminal, never when NO_COLOR is set. Secrets (tokens,
database passwords) are never printed, not even under bash -x.
HELP
}

# ---------------------------------------------------------------------------- output
# Colour codes are set per stream: only for a terminal and never with NO_COLOR.
ow_init_colour() {
  OW_C_OUT_BOLD="" OW_C_OUT_GREEN="" OW_C_OUT_DIM="" OW_C_OUT_RESET=""
  OW_C_ERR_RED="" OW_C_ERR_YELLOW="" OW_C_ERR_RESET=""
  [[ -n ${NO_COLOR:-} ]] && return 0
  if [[ -t 1 ]]; then
    OW_C_OUT_BOLD=$'\e[1m' OW_C_OUT_GREEN=$'\e[32m' OW_C_OUT_DIM=$'\e[2m' OW_C_OUT_RESET=$'\e[0m'
  fi
  if [[ -t 2 ]]; then
    OW_C_ERR_RED=$'\e[31m' OW_C_ERR_YELLOW=$'\e[33m' OW_C_ERR_RESET=$'\e[0m'
  fi
}

# ow_clean VAR TEXT: TEXT made safe for a terminal and a one-line log into VAR: ANSI CSI
# sequences (ESC [ ... final) removed; every other control character (C0, DEL, and C1 in
# UTF-8) replaced by "?", so that an OSC title or hyperlink sequence is shown, not obeyed;
# tabs and line breaks become spaces, so an API string can never forge an output line.
ow_clean() {
  # shellcheck disable=SC2034 # LC_ALL=C makes the bracket ranges below byte ranges
  local LC_ALL=C _ow_t=$2 _ow_csi=$'\e''\[*([0-?])*([ -/])[@-~]'
  _ow_t=${_ow_t//[$'\t\n\r']/ }
  _ow_t=${_ow_t//$_ow_csi/}
  _ow_t=${_ow_t//[$'\x01'-$'\x1f'$'\x7f']/?}
  _ow_t=${_ow_t//$'\xc2'[$'\x80'-$'\x9f']/?}
  printf -v "$1" '%s' "$_ow_t"
}

# ow_print PREFIX MESSAGE SUFFIX: the output functions' printf; only MESSAGE is cleaned
# (PREFIX and SUFFIX hold our own colour codes).
ow_print() {
  local _ow_msg
  ow_clean _ow_msg "$2"
  printf '%s%s%s\n' "$1" "$_ow_msg" "$3"
}
ow_step() { ow_print $'\n'"$OW_C_OUT_BOLD==> " "$*" "$OW_C_OUT_RESET"; }
ow_info() { ow_print '    ' "$*" ''; }
ow_ok() { ow_print "    ${OW_C_OUT_GREEN}OK$OW_C_OUT_RESET " "$*" ''; }
ow_warn() { ow_print "${OW_C_ERR_YELLOW}WARN$OW_C_ERR_RESET " "$*" '' >&2; }
ow_error() { ow_print "${OW_C_ERR_RED}ERROR$OW_C_ERR_RESET " "$*" '' >&2; }

# ow_die CODE MESSAGE: print MESSAGE as an error and exit with CODE.
ow_die() {
  local code=$1
  shift
  ow_error "$*"
  exit "$code"
}

ow_usage_error() {
  ow_error "$*"
  printf "Try '%s --help'.\n" "$OW_SCRIPT" >&2
  exit "$OW_EXIT_USAGE"
}

# ow_show_cmd WORD...: print a command the script runs (or would run, in dry-run), each
# word quoted as a shell would need it. Callers pass placeholders such as
# 'Authorization: Bearer ***', never a secret.
ow_show_cmd() {
  local line="" word
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      line+="${line:+ }$word"
    else
      line+="${line:+ }'${word//\'/\'\\\'\'}'"
    fi
  done
  ow_clean line "$line"
  if ((OW_DRY_RUN)); then
    printf '    %s[dry-run] would run:%s %s\n' "$OW_C_OUT_BOLD" "$OW_C_OUT_RESET" "$line"
  else
    printf '    %s$ %s%s\n' "$OW_C_OUT_DIM" "$line" "$OW_C_OUT_RESET"
  fi
}

# Describes, in dry-run, a step that is more than one command (a poll, a wait).
ow_would() { ow_print "    ${OW_C_OUT_BOLD}[dry-run] would$OW_C_OUT_RESET " "$*" ''; }

# ---------------------------------------------------------------------------- URLs
# Query parameters whose values are printed; every other value is masked. None of them
# can carry a secret (names with pass, secret, token, key, auth, cred or sig never can).
OW_URL_PLAIN_PARAMS=" hostaddr sslmode pgbouncer connection_limit connect_timeout pool_timeout
  application_name target_session_attrs channel_binding gssencmode schema teamId projectId
  projectIdOrName limit target forceNew state since until rollbackInfo rollbackCandidate
  failedOnly "

# ow_mask_url VAR URL: URL made safe to print, into VAR. The userinfo ends at the LAST "@"
# (an unencoded "@" in a password stays in the userinfo): for postgres URLs the user is
# kept and the password becomes ***; other schemes show *** for the whole userinfo. Query
# values other than OW_URL_PLAIN_PARAMS become ***, a fragment #***. Something that is
# not scheme://... (a typo such as postgresql:/ or a missing scheme) is never echoed.
ow_mask_url() {
  local _ow_u=$2 _ow_scheme _ow_rest _ow_auth="" _ow_user _ow_query="" _ow_frag="" _ow_out
  local _ow_param _ow_key _ow_q=""
  if [[ ! $_ow_u =~ ^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$ ]]; then
    printf -v "$1" '%s' '<not a scheme://host URL; not shown, it may hold a password>'
    return 0
  fi
  _ow_scheme=${BASH_REMATCH[1]} _ow_rest=${BASH_REMATCH[2]}
  if [[ $_ow_rest == *@* ]]; then
    _ow_auth=${_ow_rest%@*}
    _ow_rest=${_ow_rest##*@}
  fi
  if [[ $_ow_rest == *#* ]]; then
    _ow_frag="#***"
    _ow_rest=${_ow_rest%%#*}
  fi
  if [[ $_ow_rest == *\?* ]]; then
    _ow_query=${_ow_rest#*\?}
    _ow_rest=${_ow_rest%%\?*}
  fi
  _ow_out="$_ow_scheme://"
  if [[ -n $_ow_auth ]]; then
    _ow_user=${_ow_auth%%:*}
    if [[ $_ow_scheme =~ ^postgres(ql)?$ && $_ow_auth == *:* ]]; then
      _ow_out+="$_ow_user:***@"
    elif [[ $_ow_scheme =~ ^postgres(ql)?$ ]]; then
      _ow_out+="$_ow_user@"
    else
      _ow_out+="***@"
    fi
  fi
  _ow_out+=$_ow_rest
  if [[ -n $_ow_query ]]; then
    local -a _ow_params=()
    IFS='&' read -r -a _ow_params <<<"$_ow_query"
    for _ow_param in "${_ow_params[@]}"; do
      _ow_key=${_ow_param%%=*}
      if [[ $_ow_param == *=* && $OW_URL_PLAIN_PARAMS == *[[:space:]]"$_ow_key"[[:space:]]* &&
        ! ${_ow_key,,} =~ pass|secret|token|key|auth|cred|sig ]]; then
        _ow_q+="&$_ow_param"
      elif [[ $_ow_param == *=* ]]; then
        _ow_q+="&$_ow_key=***"
      else
        _ow_q+="&***"
      fi
    done
    _ow_out+="?${_ow_q#&}"
  fi
  ow_clean "$1" "$_ow_out$_ow_frag"
}

# ow_check_http_url NAME VALUE: exit 2 unless VALUE is an http(s) URL that curl can take
# from a config line (no spaces, quotes or backslashes); the message shows it masked.
ow_check_http_url() {
  local shown
  [[ $2 =~ ^https?://[^[:space:]\"\\]+$ ]] && return 0
  ow_mask_url shown "$2"
  ow_die "$OW_EXIT_USAGE" "$1 must be an http(s) URL, got $shown"
}

# ow_http_get URL BODY_FILE ERR_FILE: one GET; prints the HTTP code (000 when there was no
# answer). The URL reaches curl through its config on stdin, never the command line, and
# the call runs untraced: a URL with credentials shows neither in ps nor under bash -x.
ow_http_get() {
  ow_untraced ow_http_get_untraced "$@"
}

ow_http_get_untraced() {
  curl --silent --show-error --max-time "$OW_HTTP_TIMEOUT" --output "$2" \
    --write-out '%{http_code}' --config - 2>"$3" <<CONFIG || printf '000'
url = "$1"
CONFIG
}

# ---------------------------------------------------------------------------- retries
# Reads (never writes) are retried: up to OW_RETRIES more times on no answer, 429 or 5xx,
# after Retry-After when the server sends one, else after OW_RETRY_BASE, 2x, 4x... seconds.
OW_RETRIES=${OPSWATCH_HTTP_RETRIES:-4}
OW_RETRY_BASE=${OPSWATCH_RETRY_BASE:-1}
OW_RETRY_MAX_WAIT=${OPSWATCH_RETRY_MAX_WAIT:-60}

# ow_retry_after VAR HEADER_FILE: the Retry-After of a response (delta-seconds, or an
# HTTP-date turned into seconds from now, never negative) into VAR; empty when absent.
ow_retry_after() {
  local _ow_value="" _ow_when _ow_now
  printf -v "$1" '%s' ""
  [[ -s $2 ]] || return 0
  _ow_value=$(tr -d '\r' <"$2" | sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]:[[:space:]]*//p' | tail -n 1)
  if [[ $_ow_value =~ ^[0-9]{1,9}$ ]]; then
    printf -v "$1" '%s' "$((10#$_ow_value))"
  elif [[ -n $_ow_value ]] && _ow_when=$(date -d "$_ow_value" +%s 2>/dev/null); then
    printf -v _ow_now '%(%s)T' -1
    _ow_when=$((_ow_when - _ow_now))
    ((_ow_when < 0)) && _ow_when=0
    printf -v "$1" '%s' "$_ow_when"
  fi
}

# ow_backoff VAR ATTEMPT RETRY_AFTER: seconds to wait before retry ATTEMPT (1, 2, ...).
ow_backoff() {
  local _ow_base_us _ow_wait_us
  if [[ -n $3 ]]; then
    printf -v "$1" '%s' "$3"
    return 0
  fi
  ow_to_us _ow_base_us "$OW_RETRY_BASE"
  _ow_wait_us=$((_ow_base_us << ($2 - 1)))
  printf -v "$1" '%d.%06d' "$((_ow_wait_us / 1000000))" "$((_ow_wait_us % 1000000))"
}


# ---------------------------------------------------------------------------- flags
# ow_take_value "$@": the value of "--flag VALUE" or "--flag=VALUE" into OW_VALUE; OW_SHIFT
# tells the caller how many words were used. A value may not start with "-": otherwise
# "--audit-log --dry-run" would take --dry-run as a file name and run live.
ow_take_value() {
  local flag=${1%%=*}
  if [[ $1 == *=* ]]; then
    OW_VALUE=${1#*=}
    OW_SHIFT=1
  elif (($# >= 2)); then
    OW_VALUE=$2
    OW_SHIFT=2
  else
    ow_usage_error "$1 needs a value"
  fi
  [[ -n $OW_VALUE ]] || ow_usage_error "$flag needs a value"
  [[ $OW_VALUE != -* ]] || ow_usage_error "$flag needs a value, got '$OW_VALUE', which looks like an" \
    "option: values may not start with '-' (nothing was done)"
}

# ow_check_seconds FLAG VALUE: a positive number of seconds, fractions allowed.
ow_check_seconds() {
  [[ $2 =~ ^[0-9]+([.][0-9]{1,6})?$ && $2 =~ [1-9] ]] ||
    ow_usage_error "$1 must be a positive number of seconds, got '$2'"
}

# ow_parse_common_flag "$@": handles one common flag at $1 and sets OW_SHIFT. Scripts call
# it from their own parser for every word they do not know. Needs a `usage` function.
ow_parse_common_flag() {
  OW_SHIFT=1
  case $1 in
    --dry-run) OW_DRY_RUN=1 ;;
    -y | --yes) OW_YES=1 ;;
    --require-healthy) OW_REQUIRE_HEALTHY=1 ;;
    --timeout | --timeout=*)
      ow_take_value "$@"
      ow_check_seconds --timeout "$OW_VALUE"
      OW_HEALTH_TIMEOUT=$OW_VALUE
      ;;
    --interval | --interval=*)
      ow_take_value "$@"
      ow_check_seconds --interval "$OW_VALUE"
      OW_INTERVAL=$OW_VALUE
      ;;
    --audit-log | --audit-log=*)
      ow_take_value "$@"
      OW_AUDIT_LOG=$OW_VALUE
      ;;
    -h | --help)
      usage
      exit "$OW_EXIT_OK"
      ;;
    -*) ow_usage_error "unknown option: $1" ;;
    *) ow_usage_error "unexpected argument: $1" ;;
  esac
}

# Checks the settings that came from the environment rather than from flags.
ow_check_common_settings() {
  ow_check_seconds OPSWATCH_HEALTH_TIMEOUT "$OW_HEALTH_TIMEOUT"
  ow_check_seconds OPSWATCH_POLL_INTERVAL "$OW_INTERVAL"
  ow_check_seconds OPSWATCH_HTTP_TIMEOUT "$OW_HTTP_TIMEOUT"
  [[ $OW_REQUIRE_HEALTHY =~ ^[01]$ ]] || ow_usage_error "OPSWATCH_REQUIRE_HEALTHY must be 0 or 1"
  [[ $OW_RETRIES =~ ^[0-9]$|^10$ ]] || ow_usage_error "OPSWATCH_HTTP_RETRIES must be 0-10"
  ow_check_seconds OPSWATCH_RETRY_BASE "$OW_RETRY_BASE"
  ow_check_seconds OPSWATCH_RETRY_MAX_WAIT "$OW_RETRY_MAX_WAIT"
}

# ---------------------------------------------------------------------------- secrets
# ow_is_set NAME: is the variable NAME non-empty? Never expands the value itself, so a
# trace shows `[[ -n x ]]` and not the secret.
ow_is_set() { [[ -n ${!1:+x} ]]; }

# ow_untraced COMMAND...: run COMMAND with xtrace off, so secrets it expands never reach a
# `bash -x` trace. The call line shows only the command and variable names.
ow_untraced() {
  local was_tracing=0 rc=0
  [[ $- == *x* ]] && was_tracing=1
  { set +x; } 2>/dev/null
  "$@" || rc=$?
  ((was_tracing)) && set -x
  return "$rc"
}

# A URL with userinfo or a query may hold a credential, and bash -x prints every value it
# expands: with such a URL set, tracing is switched off (and said so) rather than leak it.
# Runs when this file is sourced, before any other library reads the URLs.
ow_guard_trace() {
  [[ $- == *x* ]] || return 0
  { set +x; } 2>/dev/null
  local name
  for name in PRODUCTION_URL PROMETHEUS_URL GRAFANA_URL VERCEL_API_URL; do
    if [[ ${!name:-} =~ ^[^/]*//[^/]*@ || ${!name:-} == *[?#]* ]]; then
      printf 'WARN %s has userinfo or a query (it may hold a credential): bash -x tracing is off\n' \
        "$name" >&2
      return 0
    fi
  done
  set -x
}

# ---------------------------------------------------------------------------- consent
# Refuses up front when a production change could be neither confirmed nor allowed.
ow_require_consent() {
  ((OW_DRY_RUN || OW_YES)) && return 0
  [[ -t 0 ]] && return 0
  ow_die "$OW_EXIT_USAGE" "this changes production and stdin is not a terminal: pass --yes" \
    "(run it with --dry-run first to see every step)"
}

# ow_confirm QUESTION: go on with --yes or a "y" typed on the terminal; else exit 2.
ow_confirm() {
  if ((OW_YES)); then
    ow_info "confirmed by --yes"
    return 0
  fi
  [[ -t 0 ]] || ow_die "$OW_EXIT_USAGE" "not confirmed (stdin is not a terminal): pass --yes"
  local answer=""
  read -r -p "$1 [y/N] " answer || answer=""
  [[ $answer =~ ^[Yy]([Ee][Ss])?$ ]] || ow_die "$OW_EXIT_USAGE" "not confirmed: nothing was changed"
  ow_audit "confirmed on the terminal"
}

# ow_ask QUESTION: 0 with --yes or a "y" typed on the terminal, 1 otherwise (for a step
# whose refusal is an answer, not an abort, such as cancelling a build).
ow_ask() {
  if ((OW_YES)); then
    ow_info "$1 yes (--yes)"
    return 0
  fi
  [[ -t 0 ]] || return 1
  local answer=""
  read -r -p "$1 [y/N] " answer || answer=""
  [[ $answer =~ ^[Yy]([Ee][Ss])?$ ]]
}

# ---------------------------------------------------------------------------- tools
# ow_require_tools TOOL...: exit 3 naming every missing tool.
ow_require_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  ow_die "$OW_EXIT_TOOL" "required tool(s) not found on PATH: ${missing[*]}" \
    "(Debian/Ubuntu: apt-get install curl jq postgresql-client)"
}

# ---------------------------------------------------------------------------- time, polling
# ow_now_us VAR: microseconds since the epoch into VAR (bash 5; whole seconds before).
# (Locals are _ow_-prefixed so that they never shadow the caller's VAR.)
ow_now_us() {
  local _ow_now=${EPOCHREALTIME:-}
  if [[ -n $_ow_now ]]; then
    _ow_now=${_ow_now//[.,]/}
  else
    printf -v _ow_now '%(%s)T000000' -1
  fi
  printf -v "$1" '%s' "$((10#$_ow_now))"
}

# ow_to_us VAR SECONDS: "1.5" -> 1500000 into VAR.
ow_to_us() {
  local _ow_int=${2%%.*} _ow_frac=""
  [[ $2 == *.* ]] && _ow_frac=${2#*.}
  _ow_frac="${_ow_frac}000000"
  printf -v "$1" '%s' "$((10#$_ow_int * 1000000 + 10#${_ow_frac:0:6}))"
}

# ow_poll TIMEOUT INTERVAL CHECK [ARG...]: run CHECK until it returns 0 (done) or 2 (no
# point in waiting), pausing INTERVAL between tries and never past TIMEOUT. A CHECK that
# was told to slow down (429 with Retry-After) sets OW_POLL_DELAY to the seconds asked for;
# the next pause is then that long (still never past TIMEOUT).
# Returns 0 when done, 1 on timeout, 2 when CHECK gave up.
OW_POLL_DELAY=""
ow_poll() {
  local deadline now pause limit rc frac asked
  ow_now_us now
  ow_to_us limit "$1"
  ow_to_us pause "$2"
  deadline=$((now + limit))
  shift 2
  while :; do
    rc=0
    OW_POLL_DELAY=""
    "$@" || rc=$?
    ((rc == 0 || rc == 2)) && return "$rc"
    ow_now_us now
    ((now >= deadline)) && return 1
    limit=$pause
    if [[ -n $OW_POLL_DELAY ]]; then
      ow_to_us asked "$OW_POLL_DELAY"
      ((asked > limit)) && limit=$asked
    fi
    ((now + limit > deadline)) && limit=$((deadline - now))
    printf -v frac '%06d' "$((limit % 1000000))"
    sleep "$((limit / 1000000)).$frac"
  done
}

# ---------------------------------------------------------------------------- audit, setup
# ow_audit MESSAGE: append one line to the audit log, if one is set. Callers pass ids,
# names and results, never secrets.
ow_audit() {
  [[ -n $OW_AUDIT_LOG ]] || return 0
  local stamp mode=live line
  ((OW_DRY_RUN)) && mode=dry-run
  printf -v stamp '%(%Y-%m-%dT%H:%M:%S%z)T' -1
  ow_clean line "$stamp $OW_SCRIPT user=$(ow_who) mode=$mode $*"
  printf '%s\n' "$line" >>"$OW_AUDIT_LOG" 2>/dev/null || ow_warn "cannot append to audit log $OW_AUDIT_LOG"
}

# The operator, for the audit log and annotations.
ow_who() { printf '%s' "${USER:-${LOGNAME:-$(id -un 2>/dev/null || echo unknown)}}"; }

ow_on_exit() {
  local rc=$?
  ow_audit "end exit=$rc"
  [[ -n $OW_TMP && -d $OW_TMP ]] && rm -rf -- "$OW_TMP"
  return "$rc"
}

# ow_begin WORD...: call after parsing flags. Sets up colour, the work directory, the
# exit trap and the first audit line (WORD... are the script's own, secret-free flags).
ow_begin() {
  ow_check_common_settings
  OW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/opswatch-runbook.XXXXXX") ||
    ow_die "$OW_EXIT_FAILED" "cannot create a temporary directory"
  trap ow_on_exit EXIT
  ow_audit "start args=$*"
  ((OW_DRY_RUN)) && ow_info "DRY RUN: nothing will be changed."
  return 0
}

ow_guard_trace
ow_init_colour
