#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Checks the database through the pooler and directly, shows the connection state, guides
# the switch to the direct connection when only the pooler fails, and verifies app health.
set -euo pipefail

OW_LIB="$(cd -- "${BASH_SOURCE[0]%/*}" && pwd)/lib"
# shellcheck source=lib/common.sh
source "$OW_LIB/common.sh"
# shellcheck source=lib/health.sh
source "$OW_LIB/health.sh"
# shellcheck source=lib/postgres.sh
source "$OW_LIB/postgres.sh"

# A failing database rarely heals within minutes, so the health poll is short by default.
OW_HEALTH_TIMEOUT=${OPSWATCH_HEALTH_TIMEOUT:-30}
declare -A PATH_OK=([pooler]=0 [direct]=0)
declare -A PATH_ERROR=([pooler]="" [direct]="")
declare -A PATH_CLASS=([pooler]="" [direct]="")
OW_EXIT_POOLER_DOWN=4
USAGE_LINE=""

SQL_PING="SELECT 1"
SQL_BY_STATE="SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity"
SQL_BY_STATE+=" WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC, 1"
SQL_USAGE="SELECT count(*), current_setting('max_connections'),"
SQL_USAGE+=" current_setting('superuser_reserved_connections'),"
SQL_USAGE+=" count(*) FILTER (WHERE state LIKE 'idle in transaction%'),"
SQL_USAGE+=" coalesce(max(now() - xact_start) FILTER (WHERE state LIKE 'idle in transaction%'), '0s')::text"
SQL_USAGE+=" FROM pg_stat_activity WHERE backend_type = 'client backend'"

usage() {
  cat <<HELP
Usage: $OW_SCRIPT [--dry-run] [options]

Diagnose the database paths of the app before anyone changes them:
  1. connect through the pooler (DATABASE_URL, the app's pooled URL) and
  2. through DIRECT_URL, each with psql and a read-only SELECT 1;
     each URL is classified first: Supabase direct connection (db.<ref>.supabase.co:5432,
     IPv6 unless the project has the IPv4 add-on), Supabase dedicated pooler (PgBouncer,
     db.<ref>.supabase.co:6543), Supavisor session mode (*.pooler.supabase.com:5432) or
     transaction mode (:6543, user postgres.<ref>), self-hosted pgBouncer, or PostgreSQL;
     and each failure: max clients reached, tenant or user not found, authentication,
     TLS, timeout, refused, DNS, network;
  3. show the server's connection state (pg_stat_activity by state and max_connections
     usage: the server's view; Supabase gives customers no pgBouncer admin console);
  4. advise for what was found. It never recommends pointing Vercel at an IPv6-only
     direct URL without saying so (Vercel functions reach IPv4 only); it names the
     documented alternatives (IPv4 add-on, dedicated pooler, lower connection limits).
     Every check runs from this machine, not from Vercel's network;
  5. verify the app's health endpoint.
Only read-only queries run, each in a READ ONLY transaction; nothing is changed, so
--yes is accepted but never needed. Passwords and query values in the URLs are masked in
all output (only parameters such as sslmode and pgbouncer are shown).

Exit codes:
  0  the pooler path works and the app is verified
  1  both paths fail, or the app is not healthy
  2  usage or configuration error (a URL missing or malformed)
  3  a required tool is missing
  4  the pooler path (DATABASE_URL) fails although the app is verified healthy: alert on
     it; the advice above says what to do

Options:
$(ow_common_help)

Environment:
  DATABASE_URL      the app's pooled URL (e.g. Supavisor transaction mode, port 6543); Prisma
                    parameters such as pgbouncer=true and connection_limit are dropped for psql
  DIRECT_URL        the app's DIRECT_URL (for migrations; port 5432)
  PRODUCTION_URL    the app's base URL; health is \$PRODUCTION_URL/api/health
  OPSWATCH_DB_CONNECT_TIMEOUT  psql connect timeout in seconds (default $OW_PG_CONNECT_TIMEOUT)

Examples:
  $OW_SCRIPT --dry-run
  $OW_SCRIPT --timeout 60
HELP
}

parse_args() {
  while (($# > 0)); do
    ow_parse_common_flag "$@"
    shift "$OW_SHIFT"
  done
}

# Prepares both URLs (exit 2 when one is missing or malformed; dry-run shows placeholders).
prepare_urls() {
  local label var missing=()
  [[ $OW_PG_CONNECT_TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
    ow_usage_error "OPSWATCH_DB_CONNECT_TIMEOUT must be a whole number of seconds"
  for label in pooler direct; do
    var=DATABASE_URL
    [[ $label == direct ]] && var=DIRECT_URL
    if ow_is_set "$var"; then
      ow_pg_prepare "$label" "$var"
    elif ((OW_DRY_RUN)); then
      OW_PG_SHOWN[$label]="\$$var"
    else
      missing+=("$var")
    fi
  done
  ((${#missing[@]} == 0)) || ow_die "$OW_EXIT_USAGE" "${missing[*]} not set: export the app's pooled" \
    "DATABASE_URL (port 6543) and DIRECT_URL (port 5432), as in Vercel's Production environment"
}

# describe_path LABEL: what the URL points at, and where its host resolves from here.
describe_path() {
  local label=$1 kind=${OW_PG_KIND[$1]} families
  ow_info "$label: $(ow_pg_kind_text "$kind") at $(ow_pg_endpoint "$label"), user ${OW_PG_USER[$label]:-(none)}"
  if [[ $kind == supavisor-* && ${OW_PG_USER[$label]} != *.* ]]; then
    ow_warn "$label: Supavisor needs the user postgres.<project-ref>, not '${OW_PG_USER[$label]}'" \
      "(else: 'Tenant or user not found')"
  fi
  ((OW_DRY_RUN)) && return 0
  families=$(ow_pg_ip_families "${OW_PG_HOST[$label]}")
  ow_info "$label: ${OW_PG_HOST[$label]} resolves here to: $families"
  if [[ $families == "IPv6 only" ]]; then
    ow_warn "$label: ${OW_PG_HOST[$label]} has no IPv4 address: Vercel functions cannot reach it" \
      "(Supabase: enable the IPv4 add-on, or use the pooler)"
  fi
}

# check_path LABEL: SELECT 1 through one path; sets PATH_OK, PATH_ERROR and PATH_CLASS.
check_path() {
  local label=$1 start elapsed err
  [[ -n ${OW_PG_KIND[$label]:-} ]] && describe_path "$label"
  ow_pg_show "$label" "$SQL_PING"
  ((OW_DRY_RUN)) && return 0
  if [[ -n ${OW_PG_DROPPED[$label]} ]]; then
    ow_info "(dropped for psql: ${OW_PG_DROPPED[$label]})"
  fi
  ow_now_us start
  if ow_pg_query "$label" "$SQL_PING" >/dev/null; then
    ow_now_us elapsed
    elapsed=$(((elapsed - start) / 1000))
    PATH_OK[$label]=1
    ow_ok "$label ($(ow_pg_endpoint "$label")) answers in ${elapsed} ms (measured from this machine)"
  else
    err=$(head -n 2 "$OW_TMP/psql.err" | tr -s '\n\t ' ' ')
    PATH_ERROR[$label]=${err:-psql failed}
    PATH_CLASS[$label]=$(ow_pg_failure_class "${PATH_ERROR[$label]}")
    ow_error "$label ($(ow_pg_endpoint "$label")) fails [${PATH_CLASS[$label]}]: ${PATH_ERROR[$label]}"
  fi
  ow_audit "check=$label kind=${OW_PG_KIND[$label]:-unknown} result=$([[ ${PATH_OK[$label]} == 1 ]] && echo ok || echo "failed class=${PATH_CLASS[$label]}")"
}

# Shows pg_stat_activity by state and the max_connections usage through a working path.
show_connection_state() {
  local label=direct used max reserved idle_tx idle_age pct state count
  [[ ${PATH_OK[direct]} == 1 ]] || ((OW_DRY_RUN)) || label=pooler
  ow_pg_show "$label" "$SQL_BY_STATE"
  ow_pg_show "$label" "$SQL_USAGE"
  ((OW_DRY_RUN)) && return 0
  if [[ ${PATH_OK[$label]} != 1 ]]; then
    ow_warn "no database path works: connection state not available"
    return 0
  fi
  ow_info "client connections by state (through the $label path):"
  while IFS='|' read -r state count; do
    printf '      %-30s %s\n' "$state" "$count"
  done < <(ow_pg_query "$label" "$SQL_BY_STATE" || true)
  IFS='|' read -r used max reserved idle_tx idle_age < <(ow_pg_query "$label" "$SQL_USAGE" || true)
  if [[ ! $used =~ ^[0-9]+$ || ! $max =~ ^[1-9][0-9]*$ ]]; then
    ow_warn "could not read max_connections usage"
    return 0
  fi
  pct=$((used * 100 / max))
  USAGE_LINE="$used of max_connections=$max in use ($pct%; $reserved reserved for superusers)"
  if ((pct >= 95)); then
    ow_error "connections nearly exhausted: $USAGE_LINE"
  elif ((pct >= 80)); then
    ow_warn "connections high: $USAGE_LINE"
  else
    ow_ok "$USAGE_LINE"
  fi
  if ((idle_tx > 0)); then
    ow_warn "$idle_tx session(s) idle in transaction, the oldest for $idle_age: they hold" \
      "connections and locks (find them in pg_stat_activity; end them only with the app owner)"
  fi
}

# explain_failure LABEL: what the failure class means, for the path that failed.
explain_failure() {
  local label=$1
  case ${PATH_CLASS[$label]} in
    max-clients)
      cat <<TEXT
    $label: the pooler answers but is full. Supavisor says "Max client connections reached"
    beyond the client limit of the project's compute size (transaction mode) or beyond the
    Pool Size per user and database (session mode); pgBouncer says "no more connections
    allowed (max_client_conn)". Failing over adds connections instead of removing them:
      - lower the app's connections per function instance (Prisma connection_limit=1);
      - end idle sessions and sessions idle in transaction (see step 3);
      - raise the Pool Size or the compute size (Supabase > Database settings / Add-ons).
TEXT
      ;;
    tenant-not-found)
      cat <<TEXT
    $label: Supavisor does not know this project or user ("Tenant or user not found"): the
    user must be postgres.<project-ref> and the host the pooler of the project's region;
    copy both from Supabase > Connect. A configuration error, not an outage: do not fail over.
TEXT
      ;;
    auth)
      cat <<TEXT
    $label: the user or password is rejected: rotated credentials? Update the URL in Vercel
    from Supabase > Connect (Database password). Another path with the same password fails alike.
TEXT
      ;;
    tls)
      cat <<TEXT
    $label: TLS failed: Supabase needs sslmode=require (and sslrootcert for verify-full);
    check the certificate settings before anything else.
TEXT
      ;;
    dns | network)
      cat <<TEXT
    $label: this machine cannot resolve or reach the host. For db.<ref>.supabase.co that
    is expected on an IPv4-only network: the direct connection is IPv6 unless the project
    has the IPv4 add-on. It says nothing about whether Vercel can reach it.
TEXT
      ;;
    timeout | refused)
      cat <<TEXT
    $label: no connection (${PATH_CLASS[$label]}): the pooler or the database is down, paused or
    unreachable. Supabase dashboard and status page: paused, restarting, out of disk?
TEXT
      ;;
  esac
}

# explain_direct_option: may the app use DIRECT_URL instead of the pooler? Depends on
# what DIRECT_URL is.
explain_direct_option() {
  case ${OW_PG_KIND[direct]:-postgres} in
    supabase-direct)
      cat <<TEXT
    DIRECT_URL is Supabase's direct connection (${OW_PG_HOST[direct]}). It resolves to IPv6
    unless the project has the IPv4 add-on, and Vercel functions reach IPv4 only: that it
    answers from this machine does NOT mean Vercel can use it. Do not point Vercel's
    DATABASE_URL at it unless the IPv4 add-on is on (Project Settings > Add-ons); then only
    with connection_limit=1 and without pgbouncer=true, because every function instance
    holds its own connection (${USAGE_LINE:-max_connections usage unknown}).
TEXT
      ;;
    supavisor-session)
      cat <<TEXT
    DIRECT_URL is Supavisor session mode (port 5432) on the same pooler cluster as the
    transaction mode on 6543: switching to it is not a failover. When the pooler fails,
    session mode usually fails with it, and it is capped at the Pool Size per user and
    database (one pooled connection per client). Use it only as a stopgap, with
    connection_limit=1, when transaction mode alone is broken.
TEXT
      ;;
    supabase-dedicated | supavisor-transaction | pgbouncer)
      cat <<TEXT
    DIRECT_URL is another pooler ($(ow_pg_kind_text "${OW_PG_KIND[direct]}")): switching DATABASE_URL to it
    moves the app to that pooler; keep pgbouncer=true and connection_limit as they are.
TEXT
      ;;
    *)
      cat <<TEXT
    DIRECT_URL is a plain PostgreSQL connection: the app can use it while the pooler is
    down, if Vercel can reach its host (IPv4) and there is headroom
    (${USAGE_LINE:-max_connections usage unknown}): set DATABASE_URL in Vercel > Project >
    Settings > Environment Variables > Production to it with connection_limit=1 and without
    pgbouncer=true (the password is the one in DIRECT_URL; it is masked here):
      ${OW_PG_SHOWN[direct]}  (+ connection_limit=1)
    then redeploy: runbooks/service-restart.sh --dry-run, then --yes. Restore the pooled
    URL (and redeploy) once the pooler is back.
TEXT
      ;;
  esac
}

alternatives() {
  cat <<TEXT
    Documented ways to a working path for Vercel (Supabase "Connect to your database"):
      - Supavisor transaction mode (port 6543, user postgres.<ref>) for serverless functions;
      - the dedicated pooler (PgBouncer next to the database, paid plans);
      - the IPv4 add-on, which gives the direct connection an IPv4 address;
      - fewer connections: Prisma connection_limit=1 per function, a larger Pool Size or
        compute size.
    Checks here run from $(hostname 2>/dev/null || echo this machine), not from Vercel's network.
TEXT
}

# Prints the verdict and the guidance for what the two checks found.
advise() {
  if ((OW_DRY_RUN)); then
    ow_would "classify the failures and print the next steps (never an IPv6-only direct URL for Vercel without saying so)"
    return 0
  fi
  case "${PATH_OK[pooler]}${PATH_OK[direct]}" in
    11) ow_ok "both paths work: no failover needed. If the app still reports a database" \
      "failure, compare its DATABASE_URL in Vercel with the one checked here" ;;
    10) ow_warn "the pooler works but DIRECT_URL fails: the app is not affected;" \
      "migrations (which use DIRECT_URL) would fail"
      explain_failure direct ;;
    01)
      ow_warn "the pooler fails and DIRECT_URL works (from this machine)"
      explain_failure pooler
      case ${PATH_CLASS[pooler]} in
        max-clients | tenant-not-found | auth | tls) ow_info "not a case for a failover: fix the cause above" ;;
        *)
          explain_direct_option
          alternatives
          ;;
      esac
      ow_audit "advice=pooler-down class=${PATH_CLASS[pooler]} direct=${OW_PG_KIND[direct]}"
      ;;
    *)
      ow_error "both database paths fail: switching paths will not help"
      explain_failure pooler
      [[ ${PATH_CLASS[direct]} == "${PATH_CLASS[pooler]}" ]] || explain_failure direct
      alternatives
      ow_audit "advice=database-down"
      ;;
  esac
}

main() {
  parse_args "$@"
  ow_begin "$@"
  ow_health_require_config
  prepare_urls
  if ((!OW_DRY_RUN)); then
    ow_require_tools psql curl jq
  fi

  ow_step "1. Connect through the pooler (DATABASE_URL)"
  check_path pooler
  ow_step "2. Connect directly (DIRECT_URL)"
  check_path direct
  ow_step "3. Connection state"
  show_connection_state
  ow_step "4. What to do"
  advise

  ow_step "5. Verify the app's health"
  if ((!OW_DRY_RUN)) && [[ ${PATH_OK[pooler]}${PATH_OK[direct]} == 00 ]]; then
    if ow_health_check_once "$(ow_health_url)"; then
      ow_error "both paths fail from this machine, but the app reports $OW_HEALTH_STATE (its own" \
        "database check passes from Vercel): look at this machine's network too; exit $OW_EXIT_POOLER_DOWN"
      exit "$OW_EXIT_POOLER_DOWN"
    fi
    ow_error "the database is unreachable on both paths (app health: $OW_HEALTH_STATE)"
    exit "$OW_EXIT_FAILED"
  fi
  if ! ow_verify_health; then
    ow_error "the app is not healthy: follow the steps above, then re-run this script"
    exit "$OW_EXIT_FAILED"
  fi
  if ((OW_DRY_RUN)); then
    ow_ok "dry run complete: nothing was run against the database"
  elif [[ ${PATH_OK[pooler]} == 1 ]]; then
    ow_ok "database reachable through the pooler and the app is verified"
  else
    ow_error "the app is verified, but the pooler (DATABASE_URL) fails [${PATH_CLASS[pooler]}]: exit" \
      "$OW_EXIT_POOLER_DOWN; follow the steps above"
    exit "$OW_EXIT_POOLER_DOWN"
  fi
}

main "$@"
