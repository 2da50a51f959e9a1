# shellcheck shell=bash
# shellcheck disable=SC2034 # the OW_PG_ globals are read by db-failover.sh
# PostgreSQL connections for the runbooks (sourced after common.sh), without leaking passwords.
#
# A URL such as postgresql://user:pass@host:6543/db?pgbouncer=true is split (with xtrace off)
# into a password-free URL for psql and a private passfile (PGPASSFILE) for the password,
# so the password is on no command line, in no trace and in no output. Prisma's own query
# parameters (pgbouncer, connection_limit, ...) are dropped: libpq rejects them.

# libpq URI parameters we pass on; everything else is Prisma's and is dropped.
OW_PG_KEEP_PARAMS=" sslmode sslrootcert sslcert sslkey sslcrl channel_binding gssencmode target_session_attrs "
OW_PG_CONNECT_TIMEOUT=${OPSWATCH_DB_CONNECT_TIMEOUT:-5}

declare -A OW_PG_URL=()     # label -> password-free URL for psql
declare -A OW_PG_SHOWN=()   # label -> URL to print (password masked)
declare -A OW_PG_PASS=()    # label -> passfile, or empty
declare -A OW_PG_DROPPED=() # label -> dropped query parameters
OW_PG_ARGS=()

# ow_pg_prepare LABEL VARNAME: prepare the URL held in the variable VARNAME. Exit 2 when it
# is not a postgres:// URL. Runs untraced: it handles the password.
ow_pg_prepare() {
  ow_untraced ow_pg_prepare_untraced "$@"
}

ow_pg_prepare_untraced() {
  local label=$1 var=$2 url=${!2} rest userinfo="" hostpart path="" query="" user pass="" db
  local param key kept="" shown_q="" dropped=""
  [[ $url =~ ^postgres(ql)?:// ]] ||
    ow_die "$OW_EXIT_USAGE" "$var must be a postgresql://user:password@host:port/db URL (not shown: it may hold a password)"
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
      shown_q+="&$param"
    else
      dropped+="${dropped:+, }$key"
      shown_q+="&$param"
    fi
  done

  OW_PG_URL[$label]="postgresql://${user:+$user@}$hostpart/$db?connect_timeout=$OW_PG_CONNECT_TIMEOUT&application_name=opswatch-runbook$kept"
  OW_PG_SHOWN[$label]="postgresql://${userinfo:+$user${pass:+:****}@}$hostpart/$db${shown_q:+?${shown_q#&}}"
  OW_PG_DROPPED[$label]=$dropped
  OW_PG_PASS[$label]=""
  if [[ -n $pass ]]; then
    OW_PG_PASS[$label]="$OW_TMP/pgpass.$label"
    ow_pg_write_passfile "${OW_PG_PASS[$label]}" "$pass"
  fi
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
