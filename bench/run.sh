#!/usr/bin/env bash
# Benchmarks the opswatch exporter against the two exporters a user would otherwise reach for,
# on one throwaway PostgreSQL, one after the other, at two data sizes:
#   - prometheus-postgres-exporter (Debian): custom queries, run at scrape time;
#   - prometheus-sql-exporter (Debian): the same queries on an interval.
# All three run the same cost, quota and incident SQL (bench/peer-queries.sql mirrors opswatch's).
#
#   bench/run.sh            # full run (about 75 minutes on 2 cores), writes bench/RESULTS.md
#   bench/run.sh --quick    # smoke run (about 15 minutes, small data), writes to a temporary folder
#   bench/run.sh --report-from bench/results/RUN.json   # only re-render the Markdown from saved numbers
#
# Options: --quick, --no-build (use exporter/target/opswatch-exporter.jar as it is),
# --out FILE (where the Markdown goes), --keep (keep the work directory, database included),
# --rounds N (repeats of the decisive measurements, default 3), --flags (also compare opswatch's
# RSS under several JVM flag sets, ~15 more minutes), --no-pin (let PostgreSQL share
# every CPU with the exporters and load tools), --clock WHEN (the database's and opswatch's
# clock: "28th" (default) = the last 28th of a month at 18:00 UTC, so that the month-to-date and
# today's rows are the same whatever the date; "now" = the real clock; or a date for `date -d`).
# Needs Debian (or Ubuntu) and root or sudo: it installs what is missing with apt-get. Only
# loopback addresses are used; every process it starts is stopped on exit.
#
# This script only starts and stops processes; bench/bench.py measures, checks and writes.
set -euo pipefail
export LC_ALL=C

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
PY=/usr/bin/python3
APT_PACKAGES=(postgresql-15 postgresql-client-15 prometheus-postgres-exporter prometheus-sql-exporter wrk curl
  openjdk-17-jdk-headless maven procps faketime python3 python3-yaml python3-prometheus-client)

MODE=full
BUILD=1
PIN=1
KEEP=0
OUT=""
REPORT_FROM=""
ROUNDS=3
CLOCK=28th
FLAGS=0
usage() { sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --quick) MODE=quick ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --no-pin) PIN=0 ;;
    --flags) FLAGS=1 ;;
    --rounds) [[ $# -ge 2 ]] || usage 2; ROUNDS="$2"; shift ;;
    --clock) [[ $# -ge 2 ]] || usage 2; CLOCK="$2"; shift ;;
    --report-from) [[ $# -ge 2 ]] || usage 2; REPORT_FROM="$2"; shift ;;
    --out) [[ $# -ge 2 ]] || usage 2; OUT="$2"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "unknown option $1" >&2; usage 2 ;;
  esac
  shift
done

# Scrape interval = refresh interval of every exporter in the DB-time windows (same freshness).
FRESHNESS=15
if [[ $MODE == full ]]; then
  SIZES=(1000000 10000000)
  DB_WINDOW=120          # seconds per exporter and round, with the recommended indexes
  DB_WINDOW_NOIDX=45     # seconds per exporter, without them
  LAT_SECONDS=10         # per concurrency level
  LAT_SECONDS_SLOW=15    # the scrape-time peer, whose scrapes take seconds
  SCRAPES=10000          # before the second RSS reading ...
  SCRAPES_BOUND=120      # ... or this many seconds, whichever comes first
  SCRAPES_BOUND_SLOW=30
  WARMUP_SECONDS=5
  OUT="${OUT:-$BENCH/RESULTS.md}"
else
  SIZES=(20000 100000)
  DB_WINDOW=30
  DB_WINDOW_NOIDX=30
  LAT_SECONDS=3
  LAT_SECONDS_SLOW=4
  SCRAPES=2000
  SCRAPES_BOUND=20
  SCRAPES_BOUND_SLOW=10
  WARMUP_SECONDS=2
  OUT="${OUT:-${TMPDIR:-/tmp}/opswatch-bench-quick-RESULTS.md}"
fi
EXPORTERS=(opswatch sql_exporter postgres_exporter)
START_BOUND=180          # seconds to wait for a first good scrape
# The flags the start script (and so the container image) uses: its DEFAULT_JAVA_OPTS.
START_SCRIPT="$REPO/exporter/bin/opswatch-exporter"
RECOMMENDED_FLAGS="$(sed -n 's/^DEFAULT_JAVA_OPTS="\([^"]*\)"$/\1/p' "$START_SCRIPT")"
[[ -n $RECOMMENDED_FLAGS ]] || { echo "no DEFAULT_JAVA_OPTS in $START_SCRIPT" >&2; exit 1; }
# JVM flag sets compared for resident memory (name|flags); the last is the start script's.
FLAG_SETS=(
  "JVM defaults|"
  "issue's suggestion|-XX:+UseSerialGC -Xmx32m -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=16m -XX:TieredStopAtLevel=1 -XX:+UseStringDeduplication"
  "start script with a 32 MiB heap|${RECOMMENDED_FLAGS/-Xmx16m/-Xmx32m}"
  "start script, interpreter only|${RECOMMENDED_FLAGS/-XX:TieredStopAtLevel=1 -XX:CICompilerCount=1/-Xint}"
  "start script (exporter/bin/opswatch-exporter)|$RECOMMENDED_FLAGS"
)
[[ $MODE == quick ]] && FLAG_SETS=("JVM defaults|" "start script (exporter/bin/opswatch-exporter)|$RECOMMENDED_FLAGS")

log() { printf '== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ms() { local t="$EPOCHREALTIME"; echo $((${t%.*} * 1000 + 10#${t#*.} / 1000)); }
bench_py() { "$PY" "$BENCH/bench.py" "$@"; }
# rec KIND SIZE PHASE EXPORTER ROUND 'more JSON members': one raw record.
rec() { bench_py record --raw "$RAW" "{\"kind\":\"$1\",\"size\":$2,\"phase\":\"$3\",\"exporter\":\"$4\",\"round\":$5${6:+,$6}}"; }
json_str() { "$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# ---------------------------------------------------------------------------- prerequisites
install_prerequisites() {
  local pkg missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "installing: ${missing[*]}"
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------- processes
PIDS=()
WORK=""
PG_STARTED=0
cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if ((PG_STARTED)); then "$REPO/scripts/pg-throwaway.sh" stop "$WORK/pg" || true; fi
  if [[ -n $WORK ]]; then
    if ((KEEP)); then
      log "work directory kept: $WORK"
    elif ((rc != 0)); then
      rm -rf "$WORK/pg/data"
      log "logs kept in $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process this script started: TERM, then KILL after 10 s.
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

forget_pid() {
  local pid="$1" kept=() p
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# A free loopback port chosen by the OS (the machine is shared: no fixed range).
free_port() { bench_py free-port; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---------------------------------------------------------------------------- clock
# The cost queries read the billing month so far and opswatch reads today's rows at each refresh:
# on the 1st of a month at 01:00 the month holds an hour of data, on the 28th at 18:00 almost a
# month. So PostgreSQL and opswatch run under libfaketime with a fixed offset (their monotonic
# clocks stay real), which puts "now" at the same point of the month in every run. The peers take
# the time from PostgreSQL's now(). FAKE_ENV is empty for --clock now.
FAKE_ENV=()
set_clock() {
  local target now
  now="$(date -u +%s)"
  case "$CLOCK" in
    now) R_CLOCK="real clock"; return ;;
    28th)
      target="$(date -u -d "$(date -u +%Y-%m-28) 18:00" +%s)"
      ((target <= now)) || target="$(date -u -d "$(date -u -d "$(date -u +%Y-%m-15) -1 month" +%Y-%m-28) 18:00" +%s)"
      ;;
    *) target="$(date -u -d "$CLOCK" +%s)" || die "--clock: not a date: $CLOCK" ;;
  esac
  # FAKETIME_FORCE_MONOTONIC_FIX=0: with libfaketime's default fix of pthread_cond_timedwait, the
  # JVM's timed waits misbehave (opswatch's connection pool timed out for 30-85 s before its first
  # connection, against 1 s with the fix off or without libfaketime).
  FAKE_ENV=(LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 FAKETIME="$((target - now))"
    FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0)
  R_CLOCK="libfaketime offset $((target - now)) s: the run starts at $(date -u -d "@$target" '+%Y-%m-%d %H:%M UTC') for PostgreSQL and opswatch"
}

# ---------------------------------------------------------------------------- database
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
DB=opswatch_bench
super() { "${PSQL[@]}" "postgresql://postgres@127.0.0.1:$PGPORT/$DB" "$@"; }

start_database() {
  local exports="" try
  # The port is chosen free, but the machine is shared: another cluster may take it meanwhile.
  for try in 1 2 3; do
    exports="$(env "${FAKE_ENV[@]}" "$REPO/scripts/pg-throwaway.sh" start "$WORK/pg")" && break
    exports=""
    rm -f "$WORK/pg/port"
    sleep "$try"
  done
  [[ -n $exports ]] || die "PostgreSQL did not start (see $WORK/pg/server.log)"
  eval "$exports"
  PG_STARTED=1
  PGPORT="$OPSWATCH_TEST_PG_PORT"
  PG_URL="postgresql://postgres@127.0.0.1:$PGPORT/$DB"
  log "throwaway PostgreSQL on 127.0.0.1:$PGPORT"
  "${PSQL[@]}" "postgresql://postgres@127.0.0.1:$PGPORT/postgres" -c "CREATE DATABASE $DB"
  super -f "$REPO/demo/schema.sql"
  super -f "$REPO/exporter/sql/role.sql"
  super <<SQL
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- The peers log in as members of opswatch_reader: the same column grants and row-level-security
-- policies, with the same role settings; pg_stat_statements tells the three apart by user.
DO \$\$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bench_sql_exporter', 'bench_pg_exporter'] LOOP
    EXECUTE format('CREATE ROLE %I LOGIN IN ROLE opswatch_reader CONNECTION LIMIT 6', r);
    EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', r);
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, '15s');
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
  END LOOP;
END
\$\$;
-- Planning time counts as database time too; a large WAL budget keeps the bulk load quick.
ALTER SYSTEM SET pg_stat_statements.track_planning = on;
ALTER SYSTEM SET max_wal_size = '8GB';
-- pg_stat_statements records only statements that complete: failed, timed-out and cancelled ones are
-- read from the server log, each with its user and the statement that failed.
ALTER SYSTEM SET log_line_prefix = '%m [%p] %u@%d ';
ALTER SYSTEM SET log_min_error_statement = 'error';
SELECT pg_reload_conf();
SQL
  PG_LOG="$WORK/pg/server.log"
  CLOCK_OFFSET="$(super -At -c "SELECT extract(epoch FROM now()) - $EPOCHREALTIME")"
}

RECOMMENDED_INDEXES=('"session_metrics_createdAt_idx"' '"TelemetryEvent_category_timestamp_idx"' '"SafetyEvent_unresolved_timestamp_idx"')
drop_recommended_indexes() {
  local i
  for i in "${RECOMMENDED_INDEXES[@]}"; do super -c "DROP INDEX IF EXISTS $i"; done
}

generate() {
  local rows="$1" started a b
  started=$(now_ms)
  super -v step=prepare -v sessions="$rows" -v days=60 -f "$BENCH/generate.sql" >/dev/null
  super -v step=sessions -f "$BENCH/generate.sql" >/dev/null &
  a=$!
  super -v step=events -f "$BENCH/generate.sql" >/dev/null &
  b=$!
  PIDS+=("$a" "$b")
  wait "$a" || die "generating session rows"
  wait "$b" || die "generating event rows"
  forget_pid "$a"
  forget_pid "$b"
  super -v step=done -f "$BENCH/generate.sql" >/dev/null
  local gen_ms=$(($(now_ms) - started))
  bench_py record --raw "$RAW" "$(super -At -c "
    SELECT json_build_object('kind', 'data', 'size', $rows, 'gen_ms', $gen_ms,
      'tables', (SELECT string_agg(format('%s %s (%s)', t, n, pg_size_pretty(pg_total_relation_size(t))), '; ' ORDER BY t)
        FROM (VALUES ('session_metrics', (SELECT count(*) FROM session_metrics)),
                     ('voice_usage_events', (SELECT count(*) FROM voice_usage_events)),
                     ('\"VideoVisionUsage\"', (SELECT count(*) FROM \"VideoVisionUsage\")),
                     ('\"TelemetryEvent\"', (SELECT count(*) FROM \"TelemetryEvent\")),
                     ('\"SafetyEvent\"', (SELECT count(*) FROM \"SafetyEvent\"))) AS c(t, n)),
      'mtd', (SELECT count(*) FROM session_metrics WHERE \"createdAt\" >= date_trunc('month', now() AT TIME ZONE 'UTC')),
      'today', (SELECT count(*) FROM session_metrics WHERE \"createdAt\" >= date_trunc('day', now() AT TIME ZONE 'UTC')),
      'db_now', now())")"
}

create_recommended_indexes() {
  local rows="$1" started
  started=$(now_ms)
  super -f "$REPO/exporter/sql/indexes.sql" >/dev/null
  local ms=$(($(now_ms) - started)) size
  size="$(super -At -c "SELECT pg_size_pretty(sum(pg_relation_size(c.oid))) FROM pg_class c
    WHERE c.relname IN ('session_metrics_createdAt_idx', 'TelemetryEvent_category_timestamp_idx', 'SafetyEvent_unresolved_timestamp_idx')")"
  bench_py record --raw "$RAW" "{\"kind\":\"index\",\"size\":$rows,\"index_ms\":$ms,\"index_size\":$(json_str "$size")}"
}

# ---------------------------------------------------------------------------- exporters
declare -A ROLE=([opswatch]=opswatch_reader [sql_exporter]=bench_sql_exporter [postgres_exporter]=bench_pg_exporter)
EXPORTER_PID=""
EXPORTER_URL=""
EXPORTER_LOG=""
EXPORTER_STARTED=0

# start_exporter NAME [JVM flags]: starts it on a free loopback port; sets EXPORTER_PID/URL/LOG.
start_exporter() {
  local name="$1" flags="${2:-}" port
  port="$(free_port)"
  EXPORTER_URL="http://127.0.0.1:$port/metrics"
  EXPORTER_LOG="$WORK/$name-$port.log"
  EXPORTER_STARTED=$(now_ms)
  case "$name" in
    opswatch)
      # wrk's 64 clients all come from 127.0.0.1: opswatch's per-address connection cap (32 by default,
      # against slow clients) would refuse half of them, so it is raised to 64 here, as for scrapers
      # behind one proxy. The peers have no such cap.
      local jvm_flags=()
      read -r -a jvm_flags <<<"$flags"
      env -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS -u _JAVA_OPTIONS "${FAKE_ENV[@]}" \
        OPSWATCH_DATABASE_URL="postgresql://opswatch_reader@127.0.0.1:$PGPORT/$DB" \
        OPSWATCH_HTTP_PORT="$port" OPSWATCH_LOG_LEVEL=warn \
        CONFIG_FORCE_opswatch_http_bind__address=127.0.0.1 \
        CONFIG_FORCE_opswatch_http_max__connections__per__address=64 \
        CONFIG_FORCE_opswatch_sources_costs_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_quotas___fast_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_quotas_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_incidents_refresh__interval="${FRESHNESS}s" \
        java "${jvm_flags[@]}" -jar "$WORK/opswatch-exporter.jar" >"$EXPORTER_LOG" 2>&1 &
      ;;
    sql_exporter)
      LOGLEVEL=info prometheus-sql-exporter -config.file "$WORK/sql-exporter.yml" \
        -web.listen-address "127.0.0.1:$port" >"$EXPORTER_LOG" 2>&1 &
      ;;
    postgres_exporter)
      DATA_SOURCE_NAME="postgresql://bench_pg_exporter@127.0.0.1:$PGPORT/$DB?sslmode=disable" \
        prometheus-postgres-exporter --web.listen-address="127.0.0.1:$port" \
        --extend.query-path="$WORK/postgres-exporter-queries.yaml" \
        --disable-default-metrics --disable-settings-metrics --no-collector.database --no-collector.bgwriter \
        --log.level=info >"$EXPORTER_LOG" 2>&1 &
      ;;
  esac
  EXPORTER_PID=$!
  PIDS+=("$EXPORTER_PID")
}

stop_exporter() {
  stop_pid "$EXPORTER_PID"
  forget_pid "$EXPORTER_PID"
}

# ---------------------------------------------------------------------------- CPU placement
# In production the database has a host of its own. Here it shares the cores with the exporter
# and the load tool, and at 10M rows a refresh keeps it busy for about a second: a scrape that
# lands then waits for a core, which measures the machine, not the exporter. So during the
# measurements PostgreSQL runs on the CPUs after the first, and this script, the exporters and the
# load tools on the first. Data generation and index builds use every CPU. The same for all three.
CPU_FIRST=0
CPU_REST=""
pin_cpus() {
  local n
  n="$(nproc)"
  if ((!PIN || n < 2)) || ! command -v taskset >/dev/null; then
    PIN=0
    R_PLACEMENT="none: PostgreSQL, the exporters and the load tools share all $n CPUs"
    return
  fi
  CPU_REST=1
  ((n > 2)) && CPU_REST="1-$((n - 1))"
  taskset -p -c "$CPU_FIRST" $$ >/dev/null
  R_PLACEMENT="PostgreSQL on CPU $CPU_REST, the exporters and load tools on CPU $CPU_FIRST during measurements (taskset; data generation and index builds on all CPUs); --no-pin to share"
}

# database_cpus LIST: the postmaster and every process it has forked (new ones inherit it).
database_cpus() {
  ((PIN)) || return 0
  local postmaster pid
  postmaster="$(head -1 "$WORK/pg/data/postmaster.pid")"
  for pid in "$postmaster" $(pgrep -P "$postmaster"); do
    taskset -p -c "$1" "$pid" >/dev/null 2>&1 || true
  done
}

# ---------------------------------------------------------------------------- measurements
# The scrape-time peer goes on running the queries of scrapes whose clients are gone: wait
# (at most 180 s) until its role has no active statement, so the next run starts clean.
drain() {
  local role="$1" i
  for ((i = 0; i < 360; i++)); do
    [[ "$(super -At -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$role' AND state = 'active'")" == 0 ]] && return 0
    sleep 0.5
  done
  log "warning: $role still busy after 180 s"
  bench_py record --raw "$RAW" "{\"kind\":\"warning\",\"text\":\"$role still had active statements 180 s after its clients left\"}"
}

reset_role_statements() {
  super -c "SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = '$1'))" >/dev/null
}

# Common arguments of bench.py's measuring commands for the exporter running now.
ident() { echo --exporter "$1" --size "$2" --phase "$3" --round "$4" --url "$EXPORTER_URL" --raw "$RAW"; }

# start_measured NAME SIZE PHASE ROUND [FLAGS]: start, and the time to the first good scrape.
start_measured() {
  local name="$1" rows="$2" phase="$3" round="$4" flags="${5:-$RECOMMENDED_FLAGS}"
  reset_role_statements "${ROLE[$name]}"
  start_exporter "$name" "$flags"
  # shellcheck disable=SC2046
  bench_py first-scrape $(ident "$name" "$rows" "$phase" "$round") --started-ms "$EXPORTER_STARTED" \
    --bound "$START_BOUND" --pid "$EXPORTER_PID" >/dev/null || { tail -5 "$EXPORTER_LOG" >&2; die "$name: no good scrape"; }
  if [[ $name == opswatch ]]; then
    # shellcheck disable=SC2046
    bench_py first-cycle $(ident "$name" "$rows" "$phase" "$round") --pg-url "$PG_URL"
    # shellcheck disable=SC2046
    bench_py second-cycle $(ident "$name" "$rows" "$phase" "$round") --pg-url "$PG_URL" \
      || { tail -5 "$EXPORTER_LOG" >&2; die "$name: the previous period was not served"; }
  fi
}

# window NAME SIZE PHASE ROUND SECONDS: DB time and validity (bench.py window).
window() {
  local name="$1" rows="$2" phase="$3" round="$4" seconds="$5"
  # shellcheck disable=SC2046
  bench_py window $(ident "$name" "$rows" "$phase" "$round") --seconds "$seconds" --freshness "$FRESHNESS" \
    --pg-url "$PG_URL" --pg-log "$PG_LOG" --exporter-log "$EXPORTER_LOG" \
    --postmaster-pid-file "$WORK/pg/data/postmaster.pid" --clock-offset "$CLOCK_OFFSET" \
    --scrape-timeout "${SCRAPE_TIMEOUT:-60}"
}

# latency NAME SIZE PHASE ROUND CLIENTS SECONDS [RAW]: one wrk run, recorded unless RAW=/dev/null.
latency() {
  local name="$1" rows="$2" phase="$3" round="$4" c="$5" d="$6"
  # shellcheck disable=SC2046
  bench_py wrk $(ident "$name" "$rows" "$phase" "$round") --clients "$c" --seconds "$d" \
    --pg-log "$PG_LOG" --exporter-log "$EXPORTER_LOG" ${7:+--raw "$7"} >/dev/null
}

rss() { rec rss "$1" "$2" "$3" "$4" "\"point\":\"$5\",\"kib\":$6"; }

# One round of one exporter at one size with the recommended indexes: the decisive measurements
# (first good scrape, DB time, p99 at one client), and in the first round everything else.
measure_round() {
  local rows="$1" name="$2" round="$3" slow=0
  [[ $name == postgres_exporter ]] && slow=1
  log "$rows rows, indexed, round $round: $name"
  start_measured "$name" "$rows" idx "$round"
  latency "$name" "$rows" idx "$round" 1 "$WARMUP_SECONDS" /dev/null
  if ((round == 1)); then
    rss "$rows" idx "$name" 1 warm "$(rss_kib "$EXPORTER_PID")"
    rec size_bytes "$rows" idx "$name" 1 "\"bytes\":$(curl -fsS -m 60 "$EXPORTER_URL" | wc -c)"
  fi
  ((slow)) && drain "${ROLE[$name]}"
  window "$name" "$rows" idx "$round" "$DB_WINDOW"
  ((slow)) && drain "${ROLE[$name]}"
  latency "$name" "$rows" idx "$round" 1 "$LAT_SECONDS"
  if ((round == 1)); then
    local bound=$SCRAPES_BOUND c d
    ((slow)) && bound=$SCRAPES_BOUND_SLOW
    # shellcheck disable=SC2046
    bench_py scrapes $(ident "$name" "$rows" idx 1) --count "$SCRAPES" --bound "$bound" --work "$WORK"
    rss "$rows" idx "$name" 1 after_scrapes "$(rss_kib "$EXPORTER_PID")"
    for c in 8 64; do
      d=$LAT_SECONDS
      ((slow)) && d=$LAT_SECONDS_SLOW
      ((slow)) && drain "${ROLE[$name]}"
      latency "$name" "$rows" idx 1 "$c" "$d"
    done
    rss "$rows" idx "$name" 1 after_stress "$(rss_kib "$EXPORTER_PID")"
    rss "$rows" idx "$name" 1 hwm "$(hwm_kib "$EXPORTER_PID")"
  fi
  stop_exporter
  ((slow)) && drain "${ROLE[$name]}"
  return 0
}

# Without the recommended indexes: DB time once, and the scrape-time peer's single-client latency.
measure_noindex() {
  local rows="$1" name="$2"
  log "$rows rows, no recommended indexes: $name"
  start_measured "$name" "$rows" noidx 1
  window "$name" "$rows" noidx 1 "$DB_WINDOW_NOIDX"
  if [[ $name == postgres_exporter ]]; then
    drain "${ROLE[$name]}"
    latency "$name" "$rows" noidx 1 1 "$LAT_SECONDS"
  fi
  stop_exporter
  if [[ $name == postgres_exporter ]]; then drain "${ROLE[$name]}"; fi
}

# Resident memory of opswatch under each JVM flag set (at the last size, indexed).
measure_flags() {
  local rows="$1" i entry label flags ph
  for i in "${!FLAG_SETS[@]}"; do
    entry="${FLAG_SETS[$i]}"
    label="${entry%%|*}"
    flags="${entry#*|}"
    ph="flags$i"
    log "JVM flags: $label"
    bench_py record --raw "$RAW" "{\"kind\":\"flagset\",\"index\":$i,\"label\":$(json_str "$label"),\"flags\":$(json_str "$flags")}"
    start_measured opswatch "$rows" "$ph" 1 "$flags"
    latency opswatch "$rows" "$ph" 1 1 "$WARMUP_SECONDS" /dev/null
    rss "$rows" "$ph" opswatch 1 warm "$(rss_kib "$EXPORTER_PID")"
    # shellcheck disable=SC2046
    bench_py scrapes $(ident opswatch "$rows" "$ph" 1) --count "$SCRAPES" --bound "$SCRAPES_BOUND" --work "$WORK"
    # Steady state: one more refresh of every source, scraped once as Prometheus would.
    sleep $((FRESHNESS + 1))
    curl -fsS -m 30 -o /dev/null "$EXPORTER_URL" || true
    rss "$rows" "$ph" opswatch 1 steady "$(rss_kib "$EXPORTER_PID")"
    latency opswatch "$rows" "$ph" 1 1 "$LAT_SECONDS"
    latency opswatch "$rows" "$ph" 1 64 "$LAT_SECONDS"
    rss "$rows" "$ph" opswatch 1 after_stress "$(rss_kib "$EXPORTER_PID")"
    rss "$rows" "$ph" opswatch 1 hwm "$(hwm_kib "$EXPORTER_PID")"
    stop_exporter
  done
}

# ---------------------------------------------------------------------------- main
record_meta() {
  local dirty="" opswatch
  git -C "$REPO" diff --quiet HEAD -- exporter 2>/dev/null || dirty=" + uncommitted changes"
  opswatch="$(java -jar "$WORK/opswatch-exporter.jar" --version 2>/dev/null | awk '{print $NF}') ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$dirty), $(java -version 2>&1 | head -1)"
  "$PY" - "$RAW" <<PY
import json, os, platform, sys
meta = {
    "kind": "meta",
    "date": "$(date -u '+%Y-%m-%d %H:%M UTC')",
    "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
    "cpus": os.cpu_count(),
    "memory": "%.1f GiB" % (int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 1048576),
    "kernel": "$(uname -sr)",
    "os": next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME=")), "?"),
    "postgres": "$("$PG_BIN_DIR/postgres" --version | awk '{print $3}')",
    "opswatch": $(json_str "$opswatch"),
    "sql_exporter": "$(dpkg-query -W -f='${Version}' prometheus-sql-exporter)",
    "postgres_exporter": "$(dpkg-query -W -f='${Version}' prometheus-postgres-exporter)",
    "wrk": "$(dpkg-query -W -f='${Version}' wrk)",
    "placement": $(json_str "$R_PLACEMENT"),
    "clock": $(json_str "$R_CLOCK"),
    "clock_offset_s": $CLOCK_OFFSET,
    "load_start": " ".join(open("/proc/loadavg").read().split()[:3]),
    "settings": {"mode": "$MODE", "sizes": [$(IFS=,; echo "${SIZES[*]}")], "freshness": $FRESHNESS,
                 "db_window": $DB_WINDOW, "db_window_noidx": $DB_WINDOW_NOIDX, "lat_seconds": $LAT_SECONDS,
                 "lat_seconds_slow": $LAT_SECONDS_SLOW, "scrapes": $SCRAPES, "scrapes_bound": $SCRAPES_BOUND,
                 "scrapes_bound_slow": $SCRAPES_BOUND_SLOW, "warmup_seconds": $WARMUP_SECONDS, "rounds": $ROUNDS,
                 "concurrency": [1, 8, 64], "recommended_flags": $(json_str "$RECOMMENDED_FLAGS")},
}
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(meta) + "\n")
PY
}

main() {
  if [[ -n $REPORT_FROM ]]; then
    bench_py report "$REPORT_FROM" --out "$OUT" --notes "${REPORT_FROM%.json}.notes.md"
    return
  fi
  install_prerequisites
  PG_BIN_DIR="${PG_BIN:-/usr/lib/postgresql/15/bin}"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-bench.XXXXXX")"
  [[ "$(id -u)" == 0 ]] && chmod 755 "$WORK"
  RAW="$WORK/raw.jsonl"
  log "work directory $WORK, mode $MODE, sizes ${SIZES[*]}, $ROUNDS rounds"

  if ((BUILD)); then
    log "building the exporter"
    (cd "$REPO" && mvn -B -q -ntp package -DskipTests) >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; die "build"; }
  fi
  [[ -f "$REPO/exporter/target/opswatch-exporter.jar" ]] || die "no exporter/target/opswatch-exporter.jar (drop --no-build)"
  cp "$REPO/exporter/target/opswatch-exporter.jar" "$WORK/opswatch-exporter.jar"

  set_clock
  pin_cpus
  start_database
  log "clock: $R_CLOCK"
  record_meta
  bench_py peer-configs --dsn "postgres://bench_sql_exporter@127.0.0.1:$PGPORT/$DB?sslmode=disable" \
    --out-dir "$WORK" --interval "$FRESHNESS"

  local rows name round
  for rows in "${SIZES[@]}"; do
    database_cpus "0-$(($(nproc) - 1))"
    drop_recommended_indexes
    log "generating $rows session rows (60 days) and proportional rows"
    generate "$rows"
    database_cpus "$CPU_REST"
    for name in "${EXPORTERS[@]}"; do measure_noindex "$rows" "$name"; done
    log "creating the recommended indexes"
    database_cpus "0-$(($(nproc) - 1))"
    create_recommended_indexes "$rows"
    database_cpus "$CPU_REST"
    bench_py idle-cpu --raw "$RAW" --size "$rows" --seconds 15 --postmaster-pid-file "$WORK/pg/data/postmaster.pid"
    # Rounds interleave the exporters, so that a change of the machine's load spreads over all three.
    for ((round = 1; round <= ROUNDS; round++)); do
      for name in "${EXPORTERS[@]}"; do measure_round "$rows" "$name" "$round"; done
    done
  done
  ((FLAGS)) && measure_flags "${SIZES[-1]}"
  local json
  if [[ $MODE == full ]]; then
    mkdir -p "$BENCH/results"
    json="$BENCH/results/$(date -u +%Y%m%d-%H%M)-full.json"
  else
    json="${OUT%.md}.json"
  fi
  bench_py finish --raw "$RAW" --json-out "$json" --out "$OUT" --notes "${json%.json}.notes.md" \
    --meta-end "{\"minutes\": $(((SECONDS + 30) / 60)), \"load_end\": \"$(cut -d ' ' -f 1-3 /proc/loadavg)\"}"
  log "wrote $OUT and $json"
}

# bench/issue22.sh sources this file for its functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main; fi
