#!/usr/bin/env bats
# db-failover.sh against a real PostgreSQL (OPSWATCH_TEST_DATABASE_URL, started by run.sh)
# and the fake health endpoint. The "pooler" URL points at a closed port.
# Each test runs in its own subshell; its exports are meant to stay there.
# shellcheck disable=SC2030,SC2031

load helpers

setup_file() {
  fake_start
}

teardown_file() {
  fake_stop
}

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

@test "db-failover: pooler down, direct up: shows the state, guides the switch, verifies health" {
  run_runbook db-failover.sh
  assert_status 0
  assert_output_has "pooler (127.0.0.1:$CLOSED_PORT) fails" "direct ($PG_HOSTPORT) answers" \
    "client connections by state" "of max_connections=60 in use" \
    "failover to the direct connection" "connection_limit=1" "service-restart.sh --dry-run" \
    "the pooler still fails"
  assert_output_has "postgresql://postgres:****@$PG_HOSTPORT/postgres?sslmode=disable"
  assert_no_secrets
}

@test "db-failover: both paths up (Prisma parameters dropped for psql): no failover needed" {
  export DATABASE_URL="postgresql://postgres:$PASSWORD@$PG_HOSTPORT/postgres?pgbouncer=true&connection_limit=1&sslmode=disable"
  run_runbook db-failover.sh
  assert_status 0
  assert_output_has "dropped for psql, Prisma-only: pgbouncer, connection_limit" "both paths work" \
    "reachable through the pooler"
  assert_no_secrets
}

@test "db-failover: both paths down exits 1 without waiting for health" {
  export DIRECT_URL="postgresql://postgres:$PASSWORD@127.0.0.1:$CLOSED_PORT/postgres"
  OPSWATCH_HEALTH_TIMEOUT=30 run_runbook db-failover.sh
  assert_status 1
  assert_output_has "both database paths fail" "switching paths will not help"
  [ "$(requests '.path == "/api/health"')" = 1 ]
  assert_no_secrets
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
  assert_status 0
  assert_output_has "idle in transaction" "session(s) idle in transaction, the oldest for"
}

@test "db-failover: the password appears nowhere, not even under bash -x" {
  run bash -x "$RUNBOOKS/db-failover.sh" </dev/null
  assert_status 0
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
  assert_output_has "postgresql://postgres.projectref:****@127.0.0.1:$CLOSED_PORT/postgres?pgbouncer=true"
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
