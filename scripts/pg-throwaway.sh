#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 cluster for tests.
#
#   scripts/pg-throwaway.sh start DIR   -> prints "export" lines for the cluster's URLs
#   scripts/pg-throwaway.sh stop DIR
#
# As root the cluster runs as the unprivileged `postgres` user (initdb refuses root).
# The port is the first free one from 55432 upwards, so it never clashes with a
# system PostgreSQL. Trust auth on loopback only: the cluster lives for one test run.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }

run_as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port=55432
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

start() {
  local dir="$1" port
  mkdir -p "$dir"
  [[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    run_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1
  fi
  # A restarted cluster keeps its port, so that clients configured with it reconnect.
  if [[ -f "$dir/port" ]] && run_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    port="$(cat "$dir/port")"
    print_exports "$dir" "$port"
    return
  elif [[ -f "$dir/port" ]] && ! (echo >"/dev/tcp/127.0.0.1/$(cat "$dir/port")") 2>/dev/null; then
    port="$(cat "$dir/port")"
  else
    port="$(free_port)"
  fi
  run_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 -c shared_preload_libraries=pg_stat_statements" \
    start >/dev/null
  echo "$port" >"$dir/port"
  print_exports "$dir" "$port"
}

print_exports() {
  local dir="$1" port="$2"
  cat <<OUT
export OPSWATCH_TEST_PG_PORT=$port
export OPSWATCH_TEST_PG_DIR=$dir
export OPSWATCH_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/postgres
OUT
}

stop() {
  local dir="$1"
  [[ -f "$dir/data/PG_VERSION" ]] || return 0
  run_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

status() { run_as_owner "$PG_BIN/pg_ctl" -D "$1/data" status; }

main() {
  [[ $# -eq 2 ]] || usage
  case "$1" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    status) status "$2" ;;
    *) usage ;;
  esac
}

main "$@"
