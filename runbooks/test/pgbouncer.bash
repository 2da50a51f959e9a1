# shellcheck shell=bash
# A real pgBouncer in transaction mode in front of the test PostgreSQL, for db-failover.bats.
# As root it runs as the postgres user (pgBouncer refuses root), so its folder is that user's.

# pgbouncer_start PG_HOSTPORT [MAX_CLIENT_CONN]: start it on a free loopback port with md5
# auth (user postgres, password $PASSWORD); exports PGB_DIR, PGB_PORT and PGB_PID.
pgbouncer_start() {
  local pg_host=${1%:*} pg_port=${1##*:} max_clients=${2:-100} tries=0
  PGB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/opswatch-pgbouncer.XXXXXX")
  PGB_PORT=$("$FAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  chmod 755 "$PGB_DIR"
  printf '"postgres" "%s"\n' "$PASSWORD" >"$PGB_DIR/userlist.txt"
  cat >"$PGB_DIR/pgbouncer.ini" <<INI
[databases]
postgres = host=$pg_host port=$pg_port dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = md5
auth_file = $PGB_DIR/userlist.txt
pool_mode = transaction
max_client_conn = $max_clients
default_pool_size = 5
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_DIR/pgbouncer.pid
INI
  local run=(/usr/sbin/pgbouncer)
  if [[ $(id -u) == 0 ]]; then
    chown -R postgres: "$PGB_DIR"
    run+=(-u postgres)
  fi
  "${run[@]}" "$PGB_DIR/pgbouncer.ini" >"$PGB_DIR/stdout.log" 2>&1 3>&- &
  PGB_PID=$!
  until (echo >"/dev/tcp/127.0.0.1/$PGB_PORT") 2>/dev/null; do
    ((tries++ < 100)) || { cat "$PGB_DIR"/*.log >&2; return 1; }
    sleep 0.05
  done
  export PGB_DIR PGB_PORT PGB_PID
}

pgbouncer_stop() {
  if [[ -n ${PGB_PID:-} ]]; then
    kill "$PGB_PID" 2>/dev/null || true
    wait "$PGB_PID" 2>/dev/null || true
    PGB_PID=""
  fi
  [[ -n ${PGB_DIR:-} ]] && rm -rf -- "$PGB_DIR"
  return 0
}
