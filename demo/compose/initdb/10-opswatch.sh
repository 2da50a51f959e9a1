#!/usr/bin/env bash
# DEMO ONLY. Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) when the
# database volume is empty: the app's tables, a month of demo data, the read-only roles of the
# exporter and of Grafana (passwords from their secret files) and the indexes the exporter's queries want.
#
# The SQL files are the repository's own, mounted read-only under /opswatch. The reader password
# goes to psql through \set with a backtick command, so it never appears on a command line.
#
# The entrypoint executes this file (mode 755), or sources it when the mode was lost: hence
# a function, and no shell options changed for the caller.

opswatch_initdb() {
  local sql_dir="${OPSWATCH_SQL_DIR:-/opswatch}"
  local reader_password_file="${OPSWATCH_READER_PASSWORD_FILE:-/run/secrets/opswatch_reader_password}"
  local grafana_password_file="${OPSWATCH_GRAFANA_PASSWORD_FILE:-/run/secrets/opswatch_grafana_password}"
  local psql=(psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}")

  local f
  for f in "$reader_password_file" "$grafana_password_file"; do
    if [ ! -s "$f" ]; then
      echo "opswatch initdb: $f is missing or empty" >&2
      return 1
    fi
    case "$f" in
      *"'"*) echo "opswatch initdb: the password file path $f must not contain a quote" >&2; return 1 ;;
    esac
  done

  echo "opswatch initdb: demo schema"
  "${psql[@]}" -q -f "$sql_dir/demo/schema.sql" || return 1
  echo "opswatch initdb: a month of demo data"
  "${psql[@]}" -q -f "$sql_dir/demo/seed.sql" >/dev/null || return 1
  echo "opswatch initdb: read-only role opswatch_reader"
  "${psql[@]}" -q <<SQL || return 1
\\set reader_password \`cat '$reader_password_file'\`
\\i $sql_dir/sql/role.sql
SQL
  echo "opswatch initdb: Grafana's read-only role opswatch_grafana"
  "${psql[@]}" -q <<SQL || return 1
\\set grafana_password \`cat '$grafana_password_file'\`
\\i $sql_dir/sql/grafana-role.sql
SQL
  echo "opswatch initdb: exporter indexes"
  # CREATE INDEX CONCURRENTLY: one statement at a time, outside a transaction (no -1).
  "${psql[@]}" -q -f "$sql_dir/sql/indexes.sql" || return 1
  echo "opswatch initdb: done"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  opswatch_initdb
else
  opswatch_initdb || exit 1
fi
