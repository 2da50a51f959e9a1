# shellcheck shell=bash
# shellcheck disable=SC2034 # the OW_PG_ globals are read by db-failover.sh
# PostgreSQL connections for the runbooks (sourced after common.sh), without leaking passwords.
#
# A URL such as postgresql://user:pass@host:6543/db?pgbouncer=true is split (with xtrace off)
# into a password-free URL for psql and a private passfile (PGPASSFILE) for the password,
# so the password is on no command line, in no trace and in no output. Prisma's own query
# parameters (pgbouncer, connection_limit, ...) are dropped: libpq rejects them.

# libpq URI parameters we pass on; everything else is Prisma's and is dropped.
OW_PG_KEEP_PARAMS=" hostaddr sslmode sslrootcert sslcert sslkey sslcrl channel_binding gssencmode target_session_attrs "
OW_PG_CONNECT_TIMEOUT=${OPSWATCH_DB_CONNECT_TIMEOUT:-5}

declare -A OW_PG_URL=()     # label -> password-free URL for psql
declare -A OW_PG_SHOWN=()   # label -> URL to print (password masked)
declare -A OW_PG_PASS=()    # label -> passfile, or empty
declare -A OW_PG_DROPPED=() # label -> dropped query parameters (names only)
declare -A OW_PG_HOST=()    # label -> host name (or IP), for the classification
declare -A OW_PG_PORT=()    # label -> port
declare -A OW_PG_USER=()    # label -> user name
declare -A OW_PG_KIND=()    # label -> what the URL points at (ow_pg_classify)
OW_PG_ARGS=()

# ow_pg_prepare LABEL VARNAME: prepare the URL held in the variable VARNAME. Exit 2 when it
# is not a postgres:// URL. Runs untraced: it handles the password.
ow_pg_prepare() {
  ow_untraced ow_pg_prepare_untraced "$@"
}

ow_pg_prepare_untraced() {
  local label=$1 var=$2 url=${!2} rest userinfo="" hostpart path="" query="" user pass="" db
  local param key kept="" dropped="" host port
  [[ $url =~ ^postgres(ql)?:// ]] ||
    ow_die "$OW_EXIT_USAGE" "$var must be a postgresql://user:password@host:port/db URL (not shown: it may hold a password)"
  [[ $url != *[[:space:]]* ]] || ow_die "$OW_EXIT_USAGE" "$var holds white space (not shown: it may hold a password)"
  rest=${url#*://}
  if [[ $rest == *@* ]]; then
    userinfo=${rest%@*}
    hostpart=${rest##*@}
  else
    hostpart=$rest
  fi
  if [[ $hostpart == *\?* ]]; then
    query=${hostpart#*\?}
    hostpart=${hostpart%%\?*}
  fi
  if [[ $hostpart == */* ]]; then
    path=${hostpart#*/}
    hostpart=${hostpart%%/*}
  fi
  [[ -n $hostpart ]] || ow_die "$OW_EXIT_USAGE" "$var has no host"
  user=${userinfo%%:*}
  [[ $userinfo == *:* ]] && pass=${userinfo#*:}
  db=${path:-postgres}

  local params=()
  [[ -n $query ]] && IFS='&' read -r -a params <<<"$query"
  for param in "${params[@]}"; do
    key=${param%%=*}
    if [[ $key == password ]]; then
      pass=${param#*=}
    elif [[ $OW_PG_KEEP_PARAMS == *" $key "* ]]; then
      kept+="&$param"
    else
      dropped+="${dropped:+, }$key"
    fi
  done
  if [[ $hostpart =~ ^\[([^]]*)\](:([0-9]+))?$ || $hostpart =~ ^([^:]*)(:([0-9]+))?$ ]]; then
    host=${BASH_REMATCH[1]} port=${BASH_REMATCH[3]:-5432}
  else
    ow_die "$OW_EXIT_USAGE" "$var has an unreadable host:port (not shown: it may hold a password)"
  fi

  OW_PG_URL[$label]="postgresql://${user:+$user@}$hostpart/$db?connect_timeout=$OW_PG_CONNECT_TIMEOUT&application_name=opswatch-runbook$kept"
  ow_mask_url "OW_PG_SHOWN[$label]" "$url"
  OW_PG_DROPPED[$label]=$dropped
  OW_PG_HOST[$label]=$host OW_PG_PORT[$label]=$port OW_PG_USER[$label]=$user
  ow_pg_classify "$label" "$query"
  OW_PG_PASS[$label]=""
  if [[ -n $pass ]]; then
    OW_PG_PASS[$label]="$OW_TMP/pgpass.$label"
    ow_pg_write_passfile "${OW_PG_PASS[$label]}" "$pass"
  fi
}

# ow_pg_classify LABEL QUERY: what the URL points at, into OW_PG_KIND (Supabase's hosts and
# ports as its "Connect to your database" guide lists them):
#   supabase-direct     db.<ref>.supabase.co:5432, IPv6 unless the project has the IPv4 add-on
#   supabase-dedicated  db.<ref>.supabase.co:6543, the dedicated pooler (PgBouncer, paid plans)
#   supavisor-session   *.pooler.supabase.com:5432, user postgres.<ref>, capped at Pool Size
#   supavisor-transaction  *.pooler.supabase.com:6543, user postgres.<ref>
#   pgbouncer           any other host with pgbouncer=true or port 6543 (self-hosted)
#   postgres            anything else
ow_pg_classify() {
  local label=$1 query=$2 host=${OW_PG_HOST[$1]} port=${OW_PG_PORT[$1]} kind=postgres
  if [[ $host =~ ^db\.[a-z0-9]+\.supabase\.co$ ]]; then
    kind=supabase-direct
    [[ $port == 6543 ]] && kind=supabase-dedicated
  elif [[ $host =~ \.pooler\.supabase\.com$ ]]; then
    kind=supavisor-session
    [[ $port == 6543 ]] && kind=supavisor-transaction
  elif [[ $port == 6543 || "&$query&" == *"&pgbouncer=true&"* ]]; then
    kind=pgbouncer
  fi
  OW_PG_KIND[$label]=$kind
}

# ow_pg_kind_text KIND: the classification in words.
ow_pg_kind_text() {
  case $1 in
    supabase-direct) printf 'Supabase direct connection (IPv6 unless the IPv4 add-on)' ;;
    supabase-dedicated) printf 'Supabase dedicated pooler (PgBouncer)' ;;
    supavisor-session) printf 'Supavisor session mode (port 5432)' ;;
    supavisor-transaction) printf 'Supavisor transaction mode (port 6543)' ;;
    pgbouncer) printf 'pgBouncer (self-hosted)' ;;
    *) printf 'PostgreSQL' ;;
  esac
}

# ow_pg_failure_class ERROR_TEXT: the kind of a connection failure, from psql's message
# (Supavisor's and pgBouncer's own texts included).
ow_pg_failure_class() {
  local e=${1,,}
  case $e in
    *"max client connections reached"* | *maxclientsinsessionmode* | *"no more connections allowed"* |\
      *"too many connections"* | *"too many clients"* | *"remaining connection slots are reserved"*)
      printf 'max-clients' ;;
    *"tenant or user not found"* | *"tenant/user"*"not found"*) printf 'tenant-not-found' ;;
    *"password authentication failed"* | *"sasl authentication failed"* | *"no password supplied"* |\
      *"role"*"does not exist"* | *"authentication failed"*) printf 'auth' ;;
    *ssl* | *tls* | *certificate*) printf 'tls' ;;
    *"timeout expired"* | *"timed out"*) printf 'timeout' ;;
    *"could not translate host name"* | *"name or service not known"* | *"temporary failure in name resolution"*)
      printf 'dns' ;;
    *"network is unreachable"* | *"cannot assign requested address"* | *"no route to host"*) printf 'network' ;;
    *"connection refused"*) printf 'refused' ;;
    *) printf 'other' ;;
  esac
}

# ow_pg_ip_families HOST: "IPv4 and IPv6", "IPv6 only", "IPv4 only" or "no address here"
# (as this machine's resolver answers; an IP literal answers itself).
ow_pg_ip_families() {
  local host=$1 v4="" v6=""
  if [[ $host =~ ^[0-9.]+$ ]]; then
    v4=1
  elif [[ $host == *:* ]]; then
    v6=1
  elif command -v getent >/dev/null 2>&1; then
    timeout 3 getent ahostsv4 "$host" >/dev/null 2>&1 && v4=1
    timeout 3 getent ahostsv6 "$host" 2>/dev/null | grep -qv '::ffff:' && v6=1
  else
    printf 'unknown'
    return 0
  fi
  case "$v4:$v6" in
    1:1) printf 'IPv4 and IPv6' ;;
    :1) printf 'IPv6 only' ;;
    1:) printf 'IPv4 only' ;;
    *) printf 'no address here' ;;
  esac
}

# Writes a passfile line matching any host for the (percent-decoded) password.
ow_pg_write_passfile() {
  local file=$1 pass
  printf -v pass '%b' "${2//%/\\x}"
  pass=${pass//\\/\\\\}
  pass=${pass//:/\\:}
  (umask 077 && printf '*:*:*:*:%s\n' "$pass" >"$file")
}

# The host:port of a prepared URL, for messages.
ow_pg_endpoint() {
  local rest=${OW_PG_URL[$1]#*://}
  rest=${rest#*@}
  printf '%s' "${rest%%/*}"
}

# ow_pg_args LABEL SQL URL: the psql command line; SQL runs in a read-only transaction.
ow_pg_args() {
  OW_PG_ARGS=(psql -X -w -q -At -F '|' -v ON_ERROR_STOP=1 -c 'BEGIN READ ONLY' -c "$2" -c 'COMMIT' "$3")
}

# ow_pg_show LABEL SQL: print the psql command for LABEL, password masked.
ow_pg_show() {
  ow_pg_args "$1" "$2" "${OW_PG_SHOWN[$1]}"
  ow_show_cmd "${OW_PG_ARGS[@]}"
}

# ow_pg_query LABEL SQL: run SQL; rows on stdout ("|" between fields), psql's errors in
# $OW_TMP/psql.err. Returns psql's exit code. The password comes from the label's passfile.
ow_pg_query() {
  ow_pg_args "$1" "$2" "${OW_PG_URL[$1]}"
  if [[ -n ${OW_PG_PASS[$1]} ]]; then
    PGPASSFILE=${OW_PG_PASS[$1]} "${OW_PG_ARGS[@]}" 2>"$OW_TMP/psql.err"
  else
    "${OW_PG_ARGS[@]}" 2>"$OW_TMP/psql.err"
  fi
}
