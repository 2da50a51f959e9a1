#!/usr/bin/env bash
# DEMO ONLY. Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) when the
# database volume is empty: the app's tables, a month of demo data, the exporter's read-only role
# (password from the reader secret file) and the indexes the exporter's queries want.
#
# The SQL files are the repository's own, mounted read-only under /opswatch. The reader password
# goes to psql through \set with a backtick command, so it never appears on a command line.
#
# The entrypoint executes this file (mode 755), or sources it when the mode was lost: hence
# a function, and no shell options changed for the caller.

opswatch_initdb() {
  local sql_dir="${OPSWATCH_SQL_DIR:-/opswatch}"
  local reader_password_file="${OPSWATCH_READER_PASSWORD_FILE:-/run/secrets/opswatch_reader_password}"
  local psql=(psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}")

  if [ ! -s "$reader_password_file" ]; then
    echo "opswatch initdb: $reader_password_file is missing or empty" >&2
    return 1
  fi
  case "$reader_password_file" in
    *"'"*) echo "opswatch initdb: the reader password file path must not contain a quote" >&2; return 1 ;;
  esac

  echo "opswatch initdb: demo schema"
  "${psql[@]}" -q -f "$sql_dir/demo/schema.sql" || return 1
  echo "opswatch initdb: a month of demo data"
  "${psql[@]}" -q -f "$sql_dir/demo/seed.sql" >/dev/null || return 1
  echo "opswatch initdb: read-only role opswatch_reader"
  "${psql[@]}" -q <<SQL || return 1
\\set reader_password \`cat '$reader_password_file'\`
\\i $sql_dir/sql/role.sql
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
