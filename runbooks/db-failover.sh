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

Diagnose the database paths of the app and guide a failover:
  1. connect through the pooler (DATABASE_URL, pgBouncer/Supavisor on port 6543) and
  2. directly (DIRECT_URL, port 5432), each with psql and a read-only SELECT 1;
  3. show the connection state: pg_stat_activity by state and max_connections usage;
  4. when the pooler fails and the direct path works, print the switch to the direct
     connection step by step (the switch itself is a Vercel setting you change);
  5. verify the app's health endpoint.
Only read-only queries run, each in a READ ONLY transaction; nothing is changed, so
--yes is accepted but never needed. Passwords in the URLs are masked in all output.

Exit 0 when a database path works and the app is verified; 1 when both paths fail or the
app is not healthy (a failing pooler alone is reported, with the steps to switch).

Options:
$(ow_common_help)

Environment:
  DATABASE_URL      the app's pooled URL (port 6543); Prisma parameters such as
                    pgbouncer=true and connection_limit are dropped for psql
  DIRECT_URL        the direct URL (port 5432)
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

# check_path LABEL: SELECT 1 through one path; sets PATH_OK and PATH_ERROR.
check_path() {
  local label=$1 start elapsed err
  ow_pg_show "$label" "$SQL_PING"
  ((OW_DRY_RUN)) && return 0
  if [[ -n ${OW_PG_DROPPED[$label]} ]]; then
    ow_info "(dropped for psql, Prisma-only: ${OW_PG_DROPPED[$label]})"
  fi
  ow_now_us start
  if ow_pg_query "$label" "$SQL_PING" >/dev/null; then
    ow_now_us elapsed
    elapsed=$(((elapsed - start) / 1000))
    PATH_OK[$label]=1
    ow_ok "$label ($(ow_pg_endpoint "$label")) answers in ${elapsed} ms"
  else
    err=$(head -n 2 "$OW_TMP/psql.err" | tr -s '\n\t ' ' ')
    PATH_ERROR[$label]=${err:-psql failed}
    ow_error "$label ($(ow_pg_endpoint "$label")) fails: ${PATH_ERROR[$label]}"
  fi
  ow_audit "check=$label result=$([[ ${PATH_OK[$label]} == 1 ]] && echo ok || echo failed)"
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

guide_switch_to_direct() {
  cat <<GUIDE
    The pooler fails but the direct connection works. To move the app to the direct path:
      1. Confirm the pooler is down, not just slow: Supabase dashboard > Project Settings >
         Database > Connection pooling, and the Supabase status page. A pooler restart
         may pass in minutes; re-run this script before switching.
      2. Check the headroom: ${USAGE_LINE:-max_connections usage unknown}. Without the
         pooler every function instance holds its own connection, so cap each at one.
      3. In Vercel > Project > Settings > Environment Variables > Production, set
         DATABASE_URL to the direct URL with connection_limit=1 and without pgbouncer=true:
           ${OW_PG_SHOWN[direct]}  (+ connection_limit=1)
         (the password is the one in DIRECT_URL; it is masked here). With the CLI:
           vercel env rm DATABASE_URL production && vercel env add DATABASE_URL production
      4. Redeploy so the new value takes effect:
           runbooks/service-restart.sh --dry-run   then   runbooks/service-restart.sh --yes
      5. Verify: re-run runbooks/db-failover.sh; the app's database check must pass and
         AppHealthProbeFailing must clear.
      6. When the pooler is back, restore the pooled DATABASE_URL and redeploy again: the
         direct path has far fewer connections to share.
GUIDE
}

guide_both_down() {
  cat <<GUIDE
    Neither the pooler nor the direct connection answers: switching paths will not help.
      1. Supabase dashboard and status page: is the project paused, restarting, out of
         disk, or in maintenance?
      2. Read the errors above: "password authentication failed" means rotated
         credentials; "timeout" or "could not translate host name" a network or DNS
         problem; "too many connections" exhausted max_connections (end idle sessions from
         the Supabase SQL editor).
      3. Escalate to the database owner; the app stays down until the database answers.
GUIDE
}

# Prints the verdict and the guidance for what the two checks found.
advise() {
  if ((OW_DRY_RUN)); then
    ow_would "print the next steps for what the checks find (e.g. how to switch to the direct URL)"
    return 0
  fi
  case "${PATH_OK[pooler]}${PATH_OK[direct]}" in
    11) ow_ok "both paths work: no failover needed. If the app still reports a database" \
      "failure, compare its DATABASE_URL in Vercel with the one checked here" ;;
    10) ow_warn "the pooler works but the direct path fails: the app is not affected;" \
      "migrations (which use DIRECT_URL) would fail" ;;
    01)
      ow_warn "the pooler fails and the direct path works: failover to the direct connection"
      guide_switch_to_direct
      ow_audit "advice=switch-to-direct"
      ;;
    *)
      ow_error "both database paths fail"
      guide_both_down
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
    ow_health_check_once "$(ow_health_url)" || true
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
    ow_ok "the app is verified, but the pooler still fails: keep following the steps above"
  fi
}

main "$@"
