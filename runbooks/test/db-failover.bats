#!/usr/bin/env bats
# db-failover.sh against a real PostgreSQL (OPSWATCH_TEST_DATABASE_URL, started by run.sh)
# and the fake health endpoint. The "pooler" URL points at a closed port.
# Each test runs in its own subshell; its exports are meant to stay there.
# shellcheck disable=SC2030,SC2031

load helpers
load pgbouncer

teardown() {
  pgbouncer_stop
  supavisor_stop
}

# supavisor_start MESSAGE: the fake Supavisor that refuses every connection with MESSAGE;
# exports SUPAVISOR_PORT.
supavisor_start() {
  local dir="$BATS_TEST_TMPDIR/supavisor" tries=0
  mkdir -p "$dir"
  "$FAKE_PYTHON" "$BATS_TEST_DIRNAME/fake_supavisor.py" --port-file "$dir/port" --message "$1" 3>&- &
  SUPAVISOR_PID=$!
  until [[ -s $dir/port ]]; do
    ((tries++ < 100)) || return 1
    sleep 0.05
  done
  SUPAVISOR_PORT=$(cat "$dir/port")
}

supavisor_stop() {
  if [[ -n ${SUPAVISOR_PID:-} ]]; then
    kill "$SUPAVISOR_PID" 2>/dev/null || true
    wait "$SUPAVISOR_PID" 2>/dev/null || true
    SUPAVISOR_PID=""
  fi
}

# A Supabase-looking host that libpq reaches at 127.0.0.1 (hostaddr), so the classification
# sees the real host name.
REF=abcdefghijklmnopqrst
POOLER_HOST=aws-0-eu-central-1.pooler.supabase.com
DIRECT_HOST=db.$REF.supabase.co

setup() {
  base_env
  [[ -n ${OPSWATCH_TEST_DATABASE_URL:-} ]] || skip "OPSWATCH_TEST_DATABASE_URL not set (runbooks/test/run.sh starts one)"
  fake_reset
  unset VERCEL_TOKEN VERCEL_PROJECT_ID VERCEL_API_URL
  # The real server, with a password added to the URL (trust auth ignores it; the runbook
  # must still keep it out of every output).
  local rest=${OPSWATCH_TEST_DATABASE_URL#*://}
  PG_HOSTPORT=${rest#*@}
  PG_HOSTPORT=${PG_HOSTPORT%%/*}
  CLOSED_PORT=$("$FAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  export DIRECT_URL="postgresql://postgres:$PASSWORD@$PG_HOSTPORT/postgres?sslmode=disable"
  export DATABASE_URL="postgresql://postgres.projectref:$PASSWORD@127.0.0.1:$CLOSED_PORT/postgres?pgbouncer=true&connection_limit=1"
}

@test "db-failover: pooler down, plain direct up: state, the switch guide, exit 4 with a healthy app" {
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "pooler (127.0.0.1:$CLOSED_PORT) fails [refused]" "direct ($PG_HOSTPORT) answers" \
    "measured from this machine" "client connections by state" "of max_connections=60 in use" \
    "DIRECT_URL is a plain PostgreSQL connection" "connection_limit=1" "service-restart.sh --dry-run" \
    "the app is verified, but the pooler (DATABASE_URL) fails [refused]: exit 4"
  assert_output_has "postgresql://postgres:***@$PG_HOSTPORT/postgres?sslmode=disable"
  assert_no_secrets
}

@test "db-failover: both paths up (Prisma parameters dropped for psql): no failover needed" {
  export DATABASE_URL="postgresql://postgres:$PASSWORD@$PG_HOSTPORT/postgres?pgbouncer=true&connection_limit=1&sslmode=disable"
  run_runbook db-failover.sh
  assert_status 0
  assert_output_has "dropped for psql: pgbouncer, connection_limit" "both paths work" \
    "reachable through the pooler"
  assert_no_secrets
}

@test "db-failover: both paths down exits 1 without waiting for health (4 when the app says healthy)" {
  export DIRECT_URL="postgresql://postgres:$PASSWORD@127.0.0.1:$CLOSED_PORT/postgres"
  fake_control '{"health": "unhealthy"}'
  OPSWATCH_HEALTH_TIMEOUT=30 run_runbook db-failover.sh
  assert_status 1
  assert_output_has "both database paths fail: switching paths will not help"
  [ "$(requests '.path == "/api/health"')" = 1 ]
  assert_no_secrets
  fake_control '{"reset": true}'
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "both paths fail from this machine, but the app reports healthy"
}

@test "db-failover: exits 1 when the app stays unhealthy" {
  fake_control '{"health": "unhealthy"}'
  run_runbook db-failover.sh --timeout "$SHORT"
  assert_status 1
  assert_output_has "app health not verified: still unhealthy" "database=fail"
}

@test "db-failover: shows sessions idle in transaction" {
  # A session that stays idle in a transaction until we close its input.
  local fifo="$BATS_TEST_TMPDIR/sql" holder tries=0
  mkfifo "$fifo"
  psql -X -q "$OPSWATCH_TEST_DATABASE_URL" <"$fifo" >/dev/null 2>&1 3>&- &
  holder=$!
  exec 4>"$fifo"
  echo 'BEGIN; SELECT 1;' >&4
  until [[ $(psql -X -At "$OPSWATCH_TEST_DATABASE_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'") -ge 1 ]]; do
    ((tries++ < 200)) || break
    sleep 0.05
  done
  run_runbook db-failover.sh
  exec 4>&-
  wait "$holder" || true
  assert_status 4 # the pooler URL points at a closed port
  assert_output_has "idle in transaction" "session(s) idle in transaction, the oldest for"
}

@test "db-failover: the password appears nowhere, not even under bash -x" {
  run bash -x "$RUNBOOKS/db-failover.sh" </dev/null
  assert_status 4
  assert_no_secrets
}

@test "db-failover: dry-run needs no credentials and no psql, and connects nowhere" {
  unset DATABASE_URL DIRECT_URL PRODUCTION_URL
  PATH="$(path_without psql)" run_runbook db-failover.sh --dry-run
  assert_status 0
  assert_output_has "would run: psql" "\$DATABASE_URL" "\$DIRECT_URL" "nothing was run against the database"
  [ "$(requests)" = 0 ]
}

@test "db-failover: dry-run with URLs prints them masked and runs nothing" {
  PATH="$(path_without psql)" run_runbook db-failover.sh --dry-run
  assert_status 0
  assert_output_has "postgresql://postgres.projectref:***@127.0.0.1:$CLOSED_PORT/postgres?pgbouncer=true&connection_limit=1" \
    "pooler: pgBouncer (self-hosted) at 127.0.0.1:$CLOSED_PORT, user postgres.projectref" \
    "direct: PostgreSQL at $PG_HOSTPORT"
  [ "$(requests)" = 0 ]
  assert_no_secrets
}

@test "db-failover: missing or malformed URLs exit 2" {
  unset DIRECT_URL
  run_runbook db-failover.sh
  assert_status 2
  assert_output_has "DIRECT_URL not set"
  export DIRECT_URL="mysql://root:$PASSWORD@localhost/db"
  run_runbook db-failover.sh
  assert_status 2
  assert_output_has "DIRECT_URL must be a postgresql://"
  assert_no_secrets
  export DIRECT_URL="root:$PASSWORD@localhost/db"
  run_runbook db-failover.sh
  assert_status 2
  assert_no_secrets
}

@test "db-failover: a missing psql exits 3" {
  PATH="$(path_without psql)" run_runbook db-failover.sh
  assert_status 3
  assert_output_has "required tool(s) not found on PATH: psql"
}

@test "db-failover: a real pgBouncer (transaction mode) as the pooler: works, exit 0" {
  pgbouncer_start "$PG_HOSTPORT"
  export DATABASE_URL="postgresql://postgres:$PASSWORD@127.0.0.1:$PGB_PORT/postgres?pgbouncer=true&connection_limit=1"
  run_runbook db-failover.sh
  assert_status 0
  assert_output_has "pooler: pgBouncer (self-hosted) at 127.0.0.1:$PGB_PORT" "pooler (127.0.0.1:$PGB_PORT) answers" \
    "database reachable through the pooler"
  assert_no_secrets
}

@test "db-failover: pgBouncer full (max_client_conn) is a capacity problem, not a failover (exit 4)" {
  pgbouncer_start "$PG_HOSTPORT" 1
  export DATABASE_URL="postgresql://postgres:$PASSWORD@127.0.0.1:$PGB_PORT/postgres?pgbouncer=true"
  # One client holds the only slot for the whole run.
  PGPASSWORD=$PASSWORD psql -X -w -q "postgresql://postgres@127.0.0.1:$PGB_PORT/postgres" -c 'SELECT pg_sleep(30)' \
    >/dev/null 2>&1 3>&- &
  local holder=$! tries=0
  until grep -q 'login attempt' "$PGB_DIR/pgbouncer.log" 2>/dev/null; do
    ((tries++ < 100)) || break
    sleep 0.05
  done
  run_runbook db-failover.sh
  kill "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  assert_status 4
  assert_output_has "fails [max-clients]" "no more connections allowed (max_client_conn)" \
    "Failing over adds connections instead of removing them" "not a case for a failover"
  [[ $output != *"DIRECT_URL is a plain PostgreSQL connection"* ]]
}

@test "db-failover: a wrong password through pgBouncer is an auth problem, not an outage (exit 4)" {
  pgbouncer_start "$PG_HOSTPORT"
  export DATABASE_URL="postgresql://postgres:wrong-$PASSWORD@127.0.0.1:$PGB_PORT/postgres?pgbouncer=true"
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "fails [auth]" "password authentication failed" "rotated credentials?" "not a case for a failover"
  assert_no_secrets
  # pgBouncer stopped: refused, and the plain DIRECT_URL is offered.
  pgbouncer_stop
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "fails [refused]" "DIRECT_URL is a plain PostgreSQL connection"
}

@test "db-failover: Supavisor 'Tenant or user not found' is a configuration error (user postgres.<ref>)" {
  supavisor_start "Tenant or user not found"
  export DATABASE_URL="postgresql://postgres:$PASSWORD@$POOLER_HOST:$SUPAVISOR_PORT/postgres?hostaddr=127.0.0.1&pgbouncer=true"
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "pooler: Supavisor session mode (port 5432) at $POOLER_HOST:$SUPAVISOR_PORT, user postgres" \
    "Supavisor needs the user postgres.<project-ref>, not 'postgres'" "fails [tenant-not-found]" \
    "A configuration error, not an outage: do not fail over"
  assert_no_secrets
}

@test "db-failover: Supavisor 'Max client connections reached' advises fewer connections, not a failover" {
  supavisor_start "Max client connections reached"
  export DATABASE_URL="postgresql://postgres.$REF:$PASSWORD@$POOLER_HOST:$SUPAVISOR_PORT/postgres?hostaddr=127.0.0.1&pgbouncer=true"
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "fails [max-clients]" "Max client connections reached" "Prisma connection_limit=1" \
    "not a case for a failover"
}

@test "db-failover: an IPv6-only Supabase direct URL is never offered to Vercel without saying so" {
  export DIRECT_URL="postgresql://postgres:$PASSWORD@$DIRECT_HOST:${PG_HOSTPORT##*:}/postgres?hostaddr=127.0.0.1"
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "direct: Supabase direct connection (IPv6 unless the IPv4 add-on) at $DIRECT_HOST" \
    "direct ($DIRECT_HOST:${PG_HOSTPORT##*:}) answers" "Vercel functions reach IPv4 only" \
    "does NOT mean Vercel can use it" "unless the IPv4 add-on is on" "the dedicated pooler" \
    "Checks here run from"
  [[ $output != *"DIRECT_URL is a plain PostgreSQL connection"* ]]
}

@test "db-failover: DIRECT_URL on Supavisor session mode is not a failover for the transaction pooler" {
  # (user postgres: the test server has no postgres.<ref> role; the script warns about it)
  export DIRECT_URL="postgresql://postgres:$PASSWORD@$POOLER_HOST:${PG_HOSTPORT##*:}/postgres?hostaddr=127.0.0.1"
  run_runbook db-failover.sh
  assert_status 4
  assert_output_has "direct: Supavisor session mode (port 5432)" "same pooler cluster" "not a failover"
}

@test "db-failover: dropped parameters such as sslpassword and passwords with @ # ? are never printed" {
  export DATABASE_URL="postgresql://postgres:$PASSWORD@$PG_HOSTPORT/postgres?sslpassword=$PASSWORD&pgbouncer=true&sslmode=disable"
  export DIRECT_URL="postgresql://postgres:x@y#z?${PASSWORD}@$PG_HOSTPORT/postgres?password=$PASSWORD&sslmode=disable"
  run_runbook db-failover.sh
  assert_status 0
  assert_output_has "dropped for psql: sslpassword, pgbouncer" "sslpassword=***&pgbouncer=true&sslmode=disable" \
    "postgresql://postgres:***@$PG_HOSTPORT/postgres?password=***&sslmode=disable"
  assert_no_secrets
  [[ $output != *"y#z"* ]]
  run bash -x "$RUNBOOKS/db-failover.sh" </dev/null
  assert_no_secrets
}
