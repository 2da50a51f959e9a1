# shellcheck shell=bash
# shellcheck disable=SC2154 # bats' run sets $output and $status
# Shared by the runbook bats tests: the fake Vercel/health/Prometheus server, request-log
# queries and the secret checks.

RUNBOOKS="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# Distinctive secret values: no output, trace or file may ever contain them.
TOKEN="vtok_opswatchTEST_s3cr3t_7f3a9c"
PASSWORD="pgpw_opswatchTEST_s3cr3t_19bd"
GRAFANA_SECRET="glsa_opswatchTEST_s3cr3t_55e1"

# A clean environment. Waits that should succeed get generous timeouts (they end as soon as
# the condition holds, so this costs nothing on a quiet machine and keeps a busy one green);
# the tests of a timeout set a short one themselves.
base_env() {
  unset VERCEL_TOKEN VERCEL_PROJECT_ID VERCEL_TEAM_ID VERCEL_API_URL PRODUCTION_URL PROMETHEUS_URL \
    DATABASE_URL DIRECT_URL OPSWATCH_AUDIT_LOG OPSWATCH_REQUIRE_HEALTHY OPSWATCH_RECOVERY_ALERTS NO_COLOR \
    GRAFANA_URL GRAFANA_TOKEN
  export OPSWATCH_HEALTH_TIMEOUT=15 OPSWATCH_BUILD_TIMEOUT=15 OPSWATCH_ALERTS_TIMEOUT=15
  export OPSWATCH_PROMOTE_TIMEOUT=15 OPSWATCH_CREATE_LOOKUP_TIMEOUT=15
  export OPSWATCH_POLL_INTERVAL=0.05 OPSWATCH_HTTP_TIMEOUT=5 OPSWATCH_DB_CONNECT_TIMEOUT=5
  export OPSWATCH_RETRY_BASE=0.05
  export SHORT=0.5 # the timeout of the tests that expect one
}

# fake_start: start the fake on a free port of 127.0.0.1 (once per file, from setup_file).
fake_start() {
  export FAKE_DIR="$BATS_FILE_TMPDIR/fake"
  mkdir -p "$FAKE_DIR"
  rm -f "$FAKE_DIR/port"
  # The interpreter itself, not a version-manager shim that costs a few hundred ms a start.
  [[ -n ${FAKE_PYTHON:-} ]] || FAKE_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
  "$FAKE_PYTHON" "$BATS_TEST_DIRNAME/fake_vercel.py" --port-file "$FAKE_DIR/port" \
    --log "$FAKE_DIR/requests.jsonl" --token "$TOKEN" --grafana-token "$GRAFANA_SECRET" 3>&- &
  export FAKE_PID=$!
  local tries=0
  until [[ -s $FAKE_DIR/port ]]; do
    ((tries++ < 100)) || { echo "fake server did not start" >&2; return 1; }
    sleep 0.05
  done
  FAKE_URL="http://127.0.0.1:$(cat "$FAKE_DIR/port")"
  export FAKE_URL
}

# fake_reset: default behaviour, an empty request log, and the runbooks pointed at the fake.
fake_reset() {
  fake_control '{"reset": true}'
  export VERCEL_API_URL="$FAKE_URL" PRODUCTION_URL="$FAKE_URL" VERCEL_TOKEN="$TOKEN" \
    VERCEL_PROJECT_ID=prj_opswatch
}

fake_stop() {
  if [[ -n ${FAKE_PID:-} ]]; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
    FAKE_PID=""
  fi
}

# fake_control JSON: change the fake's behaviour (see fake_vercel.py).
fake_control() {
  curl --silent --fail --max-time 5 --request POST --data "$1" "$FAKE_URL/_control" >/dev/null
}

# requests [JQ_FILTER]: count of logged requests that match the filter (default: all).
requests() {
  jq -s "[.[] | select(${1:-true})] | length" "$FAKE_DIR/requests.jsonl"
}

mutating_requests() { requests '.method != "GET" and .method != "HEAD" and .path != "/api/annotations"'; }

# grafana_on: point the runbooks' annotations at the fake Grafana.
grafana_on() {
  export GRAFANA_URL="$FAKE_URL" GRAFANA_TOKEN="$GRAFANA_SECRET"
}

# annotations: the annotation requests, as a JSON array.
annotations() {
  jq -sc '[.[] | select(.path == "/api/annotations")]' "$FAKE_DIR/requests.jsonl"
}

# The one mutating request, as JSON, for assertions on path, query and body.
the_mutation() {
  jq -sc '[.[] | select(.method != "GET" and .method != "HEAD" and .path != "/api/annotations")] | .[0]' \
    "$FAKE_DIR/requests.jsonl"
}

# run_runbook SCRIPT [ARG...]: run a runbook with stdin closed (not a terminal).
run_runbook() {
  local script=$1
  shift
  run bash "$RUNBOOKS/$script" "$@" </dev/null
}

# Fails when $output or any FILE contains the token or the database password.
assert_no_secrets() {
  local file
  if [[ $output == *"$TOKEN"* || $output == *"$PASSWORD"* || $output == *"$GRAFANA_SECRET"* ]]; then
    echo "a secret appears in the output" >&2
    return 1
  fi
  for file in "$@"; do
    if grep -qF -e "$TOKEN" -e "$PASSWORD" -e "$GRAFANA_SECRET" "$file"; then
      echo "a secret appears in $file" >&2
      return 1
    fi
  done
}

# assert_output_has TEXT...: every TEXT is in $output.
assert_output_has() {
  local text
  for text in "$@"; do
    if [[ $output != *"$text"* ]]; then
      printf 'expected in output: %s\n--- output ---\n%s\n' "$text" "$output" >&2
      return 1
    fi
  done
}

assert_status() {
  if [[ $status != "$1" ]]; then
    printf 'expected exit %s, got %s\n--- output ---\n%s\n' "$1" "$status" "$output" >&2
    return 1
  fi
}

# path_without TOOL: a PATH directory with the commands the runbooks use, except TOOL.
# (perl is there for Debian's psql wrapper.)
path_without() {
  local dir="$BATS_TEST_TMPDIR/path-without-$1" tool
  mkdir -p "$dir"
  for tool in bash cat curl env head jq mktemp perl psql rm sleep tail tr; do
    if [[ $tool != "$1" ]] && command -v "$tool" >/dev/null; then
      ln -sf "$(command -v "$tool")" "$dir/$tool"
    fi
  done
  printf '%s' "$dir"
}

# The hooks every runbook test file shares (a file may define its own setup or teardown after `load
# helpers`; the later definition wins): one fake Vercel/health/Grafana API per file, reset before each
# test, with the environment base_env gives.
setup_file() {
  fake_start
}

teardown_file() {
  fake_stop
}

setup() {
  base_env
  fake_reset
}
