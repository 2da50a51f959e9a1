#!/usr/bin/env bash
# Benchmarks the opswatch exporter against the two exporters a user would otherwise reach for,
# on one throwaway PostgreSQL, one after the other, at two data sizes:
#   - prometheus-postgres-exporter (Debian): custom queries, run at scrape time;
#   - prometheus-sql-exporter (Debian): the same queries on an interval.
# All three run the same cost, quota and incident SQL (bench/peer-queries.sql mirrors opswatch's).
#
#   bench/run.sh            # full run (about 35-40 minutes on 2 cores), writes bench/RESULTS.md
#   bench/run.sh --quick    # smoke run (a few minutes, small data), writes to a temporary file
#
# Options: --quick, --no-build (use exporter/target/opswatch-exporter.jar as it is),
# --out FILE (where the Markdown goes), --keep (keep the work directory, database included),
# --report-from FILE (only rewrite the Markdown from a run's saved results.sh),
# --no-pin (let PostgreSQL share every CPU with the exporters and load tools; see pin_cpus).
# Needs Debian (or Ubuntu) and root or sudo: it installs what is missing with apt-get. Only
# loopback addresses are used; every process it starts is stopped on exit.
set -euo pipefail
export LC_ALL=C

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
APT_PACKAGES=(postgresql-15 postgresql-client-15 prometheus-postgres-exporter prometheus-sql-exporter wrk curl
  openjdk-17-jdk-headless maven procps)

MODE=full
BUILD=1
PIN=1
KEEP=0
OUT=""
REPORT_FROM=""
usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case "$1" in
    --quick) MODE=quick ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --no-pin) PIN=0 ;;
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
  DB_WINDOW=120          # seconds per exporter, with the recommended indexes
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
CONCURRENCY=(1 8 64)
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

# Milliseconds since the epoch, from bash's own clock.
now_ms() { local t="$EPOCHREALTIME"; echo $((${t%.*} * 1000 + 10#${t#*.} / 1000)); }

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
      rm -rf "$WORK/pg"
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

port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for ((port = 19300; port < 19400; port++)); do
    port_in_use "$port" || { echo "$port"; return; }
  done
  die "no free port in 19300-19399"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# ---------------------------------------------------------------------------- database
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
DB=opswatch_bench
super() { "${PSQL[@]}" "postgresql://postgres@127.0.0.1:$PGPORT/$DB" "$@"; }

start_database() {
  eval "$("$REPO/scripts/pg-throwaway.sh" start "$WORK/pg")"
  PG_STARTED=1
  PGPORT="$OPSWATCH_TEST_PG_PORT"
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
SELECT pg_reload_conf();
SQL
}

RECOMMENDED_INDEXES=('"session_metrics_createdAt_idx"' '"TelemetryEvent_category_timestamp_idx"' '"SafetyEvent_unresolved_timestamp_idx"')
drop_recommended_indexes() {
  local i
  for i in "${RECOMMENDED_INDEXES[@]}"; do super -c "DROP INDEX IF EXISTS $i"; done
}

generate() {
  local rows="$1" started
  started=$(now_ms)
  super -v step=prepare -v sessions="$rows" -v days=60 -f "$BENCH/generate.sql" >/dev/null
  super -v step=sessions -f "$BENCH/generate.sql" >/dev/null &
  local a=$!
  super -v step=events -f "$BENCH/generate.sql" >/dev/null &
  local b=$!
  PIDS+=("$a" "$b")
  wait "$a" || die "generating session rows"
  wait "$b" || die "generating event rows"
  forget_pid "$a"
  forget_pid "$b"
  super -v step=done -f "$BENCH/generate.sql" >/dev/null
  R[$rows|gen_ms]=$(($(now_ms) - started))
  R[$rows|tables]="$(super -At -c "
    SELECT string_agg(format('%s %s (%s)', t, n, pg_size_pretty(pg_total_relation_size(t))), '; ' ORDER BY t)
    FROM (VALUES ('session_metrics', (SELECT count(*) FROM session_metrics)),
                 ('voice_usage_events', (SELECT count(*) FROM voice_usage_events)),
                 ('\"VideoVisionUsage\"', (SELECT count(*) FROM \"VideoVisionUsage\")),
                 ('\"TelemetryEvent\"', (SELECT count(*) FROM \"TelemetryEvent\")),
                 ('\"SafetyEvent\"', (SELECT count(*) FROM \"SafetyEvent\"))) AS c(t, n)")"
  R[$rows|mtd]="$(super -At -c "SELECT count(*) FROM session_metrics WHERE \"createdAt\" >= date_trunc('month', now() AT TIME ZONE 'UTC')")"
}

create_recommended_indexes() {
  local rows="$1" started
  started=$(now_ms)
  super -f "$REPO/exporter/sql/indexes.sql" >/dev/null
  R[$rows|index_ms]=$(($(now_ms) - started))
  R[$rows|index_size]="$(super -At -c "SELECT pg_size_pretty(sum(pg_relation_size(c.oid))) FROM pg_class c
    WHERE c.relname IN ('session_metrics_createdAt_idx', 'TelemetryEvent_category_timestamp_idx', 'SafetyEvent_unresolved_timestamp_idx')")"
}

# ---------------------------------------------------------------------------- peer configs
# bench/peer-queries.sql -> postgres_exporter's queries.yaml and sql_exporter's config.
peer_configs() {
  local dsn="$1"
  awk -v dsn="$dsn" -v pge="$WORK/postgres-exporter-queries.yaml" -v sqle="$WORK/sql-exporter.yml" '
    function flush(   i, n, a) {
      if (metric == "") return
      printf "%s:\n  query: |\n%s  metrics:\n", metric, pbody > pge
      n = split(labels, a, " "); for (i = 1; i <= n; i++) printf "    - %s:\n        usage: \"LABEL\"\n        description: \"%s\"\n", a[i], a[i] > pge
      n = split(values, a, " "); for (i = 1; i <= n; i++) printf "    - %s:\n        usage: \"GAUGE\"\n        description: \"%s\"\n", a[i], from > pge
      n = split(discard, a, " "); for (i = 1; i <= n; i++) printf "    - %s:\n        usage: \"DISCARD\"\n        description: \"always NULL\"\n", a[i] > pge
      printf "      - name: \"%s\"\n        help: \"%s\"\n        allow_zero_rows: true\n        labels:\n", metric, from > sqle
      n = split(labels, a, " "); for (i = 1; i <= n; i++) printf "          - \"%s\"\n", a[i] > sqle
      printf "        values:\n" > sqle
      n = split(values, a, " "); for (i = 1; i <= n; i++) printf "          - \"%s\"\n", a[i] > sqle
      printf "        query: |\n%s", sbody > sqle
      metric = labels = values = discard = from = pbody = sbody = ""
    }
    BEGIN {
      print "# Generated by bench/run.sh from bench/peer-queries.sql." > pge
      print "# Generated by bench/run.sh from bench/peer-queries.sql." > sqle
      printf "jobs:\n  - name: \"opswatch\"\n    interval: \"15s\"\n    keepalive: true\n    connections:\n      - \"%s\"\n    queries:\n", dsn > sqle
    }
    /^-- metric: / { flush(); metric = $3; insql = 1; next }
    metric == "" { next }
    /^-- labels:/ { sub(/^-- labels: */, ""); labels = $0; next }
    /^-- values:/ { sub(/^-- values: */, ""); values = $0; next }
    /^-- discard:/ { sub(/^-- discard: */, ""); discard = $0; next }
    /^-- from:/ { sub(/^-- from: */, ""); gsub(/"/, ""); from = $0; next }
    insql && !/^--/ {
      line = $0; last = (line ~ /;[ \t]*$/); if (last) sub(/;[ \t]*$/, "", line)
      pbody = pbody "    " line "\n"; sbody = sbody "          " line "\n"
      if (last) insql = 0
    }
    END { flush() }
  ' "$BENCH/peer-queries.sql"
}

# ---------------------------------------------------------------------------- exporters
declare -A ROLE=([opswatch]=opswatch_reader [sql_exporter]=bench_sql_exporter [postgres_exporter]=bench_pg_exporter)
EXPORTER_PID=""
EXPORTER_URL=""
EXPORTER_LOG=""

# start_exporter NAME [JVM flags]: starts it on a free loopback port; sets EXPORTER_PID/URL.
start_exporter() {
  local name="$1" flags="${2:-}" port
  port="$(free_port)"
  EXPORTER_URL="http://127.0.0.1:$port/metrics"
  EXPORTER_LOG="$WORK/$name-$port.log"
  case "$name" in
    opswatch)
      local jvm_flags=()
      read -r -a jvm_flags <<<"$flags"
      env -u JAVA_TOOL_OPTIONS -u JDK_JAVA_OPTIONS -u _JAVA_OPTIONS \
        OPSWATCH_DATABASE_URL="postgresql://opswatch_reader@127.0.0.1:$PGPORT/$DB" \
        OPSWATCH_HTTP_PORT="$port" OPSWATCH_LOG_LEVEL=warn \
        CONFIG_FORCE_opswatch_http_bind__address=127.0.0.1 \
        CONFIG_FORCE_opswatch_sources_costs_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_quotas__fast_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_quotas_refresh__interval="${FRESHNESS}s" \
        CONFIG_FORCE_opswatch_sources_incidents_refresh__interval="${FRESHNESS}s" \
        java "${jvm_flags[@]}" -jar "$WORK/opswatch-exporter.jar" >"$EXPORTER_LOG" 2>&1 &
      ;;
    sql_exporter)
      LOGLEVEL=warn prometheus-sql-exporter -config.file "$WORK/sql-exporter.yml" \
        -web.listen-address "127.0.0.1:$port" >"$EXPORTER_LOG" 2>&1 &
      ;;
    postgres_exporter)
      DATA_SOURCE_NAME="postgresql://bench_pg_exporter@127.0.0.1:$PGPORT/$DB?sslmode=disable" \
        prometheus-postgres-exporter --web.listen-address="127.0.0.1:$port" \
        --extend.query-path="$WORK/postgres-exporter-queries.yaml" \
        --disable-default-metrics --disable-settings-metrics --no-collector.database --no-collector.bgwriter \
        --log.level=warn >"$EXPORTER_LOG" 2>&1 &
      ;;
  esac
  EXPORTER_PID=$!
  PIDS+=("$EXPORTER_PID")
}

stop_exporter() {
  stop_pid "$EXPORTER_PID"
  forget_pid "$EXPORTER_PID"
}

# A good scrape: HTTP 200 with data from the database (opswatch: every source up).
good_scrape() {
  local name="$1" body
  body="$(curl -fsS -m 30 "$EXPORTER_URL" 2>/dev/null)" || return 1
  case "$name" in
    opswatch)
      grep -q '^opswatch_source_up{' <<<"$body" && ! grep -Eq '^opswatch_source_up\{[^}]*\} 0' <<<"$body" \
        && grep -q '^opswatch_llm_cost_month_to_date_eur{' <<<"$body"
      ;;
    # sql_exporter prefixes its metrics with sql_.
    *) grep -Eq '^(sql_)?opswatch_cost_text_sessions' <<<"$body" && grep -Eq '^(sql_)?opswatch_safety_event_newest' <<<"$body" ;;
  esac
}

# Milliseconds from start to the first good scrape (polled every 50 ms, bounded).
wait_first_good_scrape() {
  local name="$1" started="$2" deadline
  deadline=$((started + START_BOUND * 1000))
  while (($(now_ms) < deadline)); do
    kill -0 "$EXPORTER_PID" 2>/dev/null || { tail -5 "$EXPORTER_LOG" >&2; die "$name exited"; }
    if good_scrape "$name"; then
      echo $(($(now_ms) - started))
      return
    fi
    sleep 0.05
  done
  tail -5 "$EXPORTER_LOG" >&2
  die "$name: no good scrape within $START_BOUND s"
}

# ---------------------------------------------------------------------------- CPU placement
# In production the database has a host of its own. Here it shares the cores with the exporter
# and the load tool, and at 10M rows a refresh keeps it busy for about a second: a scrape that
# lands then waits for a core, which measures the machine, not the exporter (at 10M rows, one
# client: opswatch p99 0.84-9.0 ms with refreshes every 15 s, 0.63-0.69 ms without them,
# 0.51-0.53 ms with refreshes and PostgreSQL on a core of its own). So during the measurements
# PostgreSQL runs on the CPUs after the first, and this script, the exporters and the load tools
# on the first. Data generation and index builds use every CPU. The same for all three exporters.
CPU_FIRST=0
CPU_REST=""
pin_cpus() {
  local n
  n="$(nproc)"
  if ((!PIN || n < 2)) || ! command -v taskset >/dev/null; then
    PIN=0
    R[meta|placement]="none: PostgreSQL, the exporters and the load tools share all $n CPUs"
    return
  fi
  CPU_REST=1
  ((n > 2)) && CPU_REST="1-$((n - 1))"
  taskset -p -c "$CPU_FIRST" $$ >/dev/null
  R[meta|placement]="PostgreSQL on CPU $CPU_REST, the exporters and load tools on CPU $CPU_FIRST during measurements (taskset; data generation and index builds on all CPUs); --no-pin to share"
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
# The role's pg_stat_statements time by query group: lines of group|calls|ms|cycles, where cycles
# counts the calls of one statement that runs once per refresh of that group.
statement_groups() {
  super -At -F '|' -v role="$1" <<'SQL'
WITH s AS (
  SELECT calls, total_exec_time + total_plan_time AS ms,
         CASE WHEN query ~ 'UNION ALL' AND query ~ 'SafetyEvent' THEN 'recent'
              WHEN query ~ '(session_metrics|voice_usage_events|VideoVisionUsage)' THEN 'cost'
              WHEN query ~ '(SafetyEvent|unnest)' THEN 'incident'
              WHEN query ~ 'TelemetryEvent' THEN 'quota'
              ELSE 'other' END AS grp,
         CASE WHEN query ~ 'FROM session_metrics' THEN 'cost'
              WHEN query ~ 'AS failures' THEN 'quota'
              WHEN query ~ 'MAX\(e\."timestamp"\)' THEN 'incident' END AS marker
  FROM pg_stat_statements
  WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = :'role')
), cycles AS (
  SELECT marker, sum(calls) AS n FROM s WHERE marker IS NOT NULL GROUP BY marker
)
SELECT s.grp, sum(s.calls), round(sum(s.ms)::numeric, 1),
       COALESCE((SELECT n FROM cycles WHERE marker = CASE s.grp WHEN 'recent' THEN 'incident' ELSE s.grp END), 0)
FROM s GROUP BY s.grp ORDER BY s.grp;
SQL
}

# opswatch reads the month's past days once an hour (closed-days-refresh) and only today's rows
# at each refresh, so a steady window misses those reads: measure them as the first refresh
# cycle's time minus a steady cycle's, and add one an hour.
reset_role_statements() {
  super -c "SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = '$1'))" >/dev/null
}

first_cycle() {
  local key="$1" role="$2" grp calls ms cycles
  while IFS='|' read -r grp calls ms cycles; do
    [[ -n $grp ]] && R[$key|first_cycle_ms_$grp]=$ms
  done < <(statement_groups "$role")
}

# wrk's duration in ms: "12.34ms", "850.00us", "1.20s", "2.00m".
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.3f", n }'
}

# Runs a bounded command in the background as one of this script's processes, so that the
# exit trap can stop it too, and waits for it.
run_tracked() {
  "$@" &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid" || true
  forget_pid "$pid"
}

# run_wrk CONNECTIONS SECONDS: sets WRK_P50 and WRK_P99 (ms), WRK_N (requests), WRK_ERR (errors).
run_wrk() {
  local c="$1" d="$2" threads out
  threads=$((c < 2 ? c : 2))
  run_tracked wrk -t "$threads" -c "$c" -d "${d}s" --timeout 120s --latency "$EXPORTER_URL" >"$WORK/wrk.out" 2>&1
  out="$(cat "$WORK/wrk.out")"
  cat "$WORK/wrk.out" >>"$WORK/wrk.log"
  WRK_P50="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")"
  WRK_P99="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
  WRK_N="$(awk '/requests in/ {print $1}' <<<"$out")"
  WRK_N="${WRK_N:-0}"
  WRK_ERR="$(awk '/Socket errors/ {gsub(/,/, ""); print $4 + $6 + $8 + $10} /Non-2xx/ {print $NF}' <<<"$out" | awk '{s += $1} END {print s + 0}')"
}

# scrape_many COUNT SECONDS: COUNT scrapes by 8 parallel keep-alive clients (curl --parallel),
# cut off after SECONDS; sets SCRAPES_OK and SCRAPES_FAILED. (wrk cannot stop at a count.)
scrape_many() {
  local n="$1" bound="$2"
  awk -v n="$n" -v u="$EXPORTER_URL" 'BEGIN {for (i = 1; i <= n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u}' >"$WORK/scrapes.curl"
  run_tracked timeout "$bound" stdbuf -oL curl -s --parallel --parallel-max 8 -K "$WORK/scrapes.curl" -w '%{http_code}\n' >"$WORK/scrapes.out" 2>/dev/null
  SCRAPES_OK="$(awk '$1 == 200 {n++} END {print n + 0}' "$WORK/scrapes.out")"
  SCRAPES_FAILED="$(awk '$1 != 200 {n++} END {print n + 0}' "$WORK/scrapes.out")"
}

# CPU time (ms) of the whole PostgreSQL cluster so far: the postmaster with its reaped children
# (exited backends and parallel workers) plus every live child. One exporter runs at a time, so
# the difference over a window is that exporter's database CPU (plus a small idle baseline).
cluster_cpu_ms() {
  local pm
  pm="$(head -1 "$WORK/pg/data/postmaster.pid")"
  # Processes come and go while this reads them: a vanished one is simply not counted.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" '
    {
      pid = $1; line = $0; sub(/^[^)]*\) /, "", line); split(line, f, " ")
      # f[2] = ppid, f[12..15] = utime stime cutime cstime
      if (pid == pm) t += f[12] + f[13] + f[14] + f[15]
      else if (f[2] == pm) t += f[12] + f[13]
    }
    END {printf "%.0f", t * 1000 / hz}'
}

# DB time of one exporter: reset its pg_stat_statements, scrape every FRESHNESS s for WINDOW s,
# then sum exec + planning time per query group. Per hour = per refresh cycle x 3600/FRESHNESS,
# where a group's cycles are the calls of one query that runs once per refresh (so that a window
# holding 8 or 9 refreshes of a background loop is counted right); "other" (SET, BEGIN...) scales
# by wall time.
db_time() {
  local key="$1" role="$2" window="$3" started slot grp calls ms cycles
  reset_role_statements "$role"
  local cpu0
  cpu0="$(cluster_cpu_ms)"
  started=$(now_ms)
  for ((slot = 0; slot < window / FRESHNESS; slot++)); do
    curl -fsS -m 60 -o /dev/null "$EXPORTER_URL" || R[$key|scrape_errors]=$((${R[$key|scrape_errors]:-0} + 1))
    local next=$((started + (slot + 1) * FRESHNESS * 1000)) now
    now=$(now_ms)
    ((next > now)) && sleep "$(awk -v ms=$((next - now)) 'BEGIN {printf "%.3f", ms / 1000}')"
  done
  local per_hour=0 total=0
  while IFS='|' read -r grp calls ms cycles; do
    [[ -n $grp ]] || continue
    R[$key|db_calls_$grp]=$calls
    R[$key|db_ms_$grp]=$ms
    R[$key|db_cycles_$grp]=$cycles
    local h
    if ((cycles > 0)); then
      h="$(awk -v ms="$ms" -v c="$cycles" -v f="$FRESHNESS" 'BEGIN {printf "%.1f", ms / c * 3600 / f}')"
    else
      h="$(awk -v ms="$ms" -v w="$window" 'BEGIN {printf "%.1f", ms * 3600 / w}')"
    fi
    R[$key|db_hour_$grp]=$h
    per_hour="$(awk -v a="$per_hour" -v b="$h" 'BEGIN {printf "%.1f", a + b}')"
    total="$(awk -v a="$total" -v b="$ms" 'BEGIN {printf "%.1f", a + b}')"
  done < <(statement_groups "$role")
  local pastdays=0
  for grp in cost quota; do
    [[ -n ${R[$key|first_cycle_ms_$grp]:-} && ${R[$key|db_cycles_$grp]:-0} -gt 0 ]] || continue
    pastdays="$(awk -v p="$pastdays" -v f="${R[$key|first_cycle_ms_$grp]}" -v ms="${R[$key|db_ms_$grp]}" -v c="${R[$key|db_cycles_$grp]}" \
      'BEGIN {x = f - ms / c; printf "%.1f", p + (x > 0 ? x : 0)}')"
  done
  R[$key|db_hour_pastdays]=$pastdays
  per_hour="$(awk -v a="$per_hour" -v b="$pastdays" 'BEGIN {printf "%.1f", a + b}')"
  R[$key|db_hour]=$per_hour
  R[$key|db_window_ms]=$total
  R[$key|db_window]=$window
  local cpu=$(($(cluster_cpu_ms) - cpu0)) cycles="${R[$key|db_cycles_cost]:-0}"
  R[$key|cpu_window_ms]=$cpu
  if ((cycles > 0)); then
    R[$key|cpu_hour]="$(awk -v ms="$cpu" -v c="$cycles" -v f="$FRESHNESS" 'BEGIN {printf "%.1f", ms / c * 3600 / f}')"
  else
    R[$key|cpu_hour]="$(awk -v ms="$cpu" -v w="$window" 'BEGIN {printf "%.1f", ms * 3600 / w}')"
  fi
}

# The idle cluster's own CPU (checkpointer, autovacuum launcher, stats) per hour, over SECONDS.
idle_cpu() {
  local rows="$1" seconds="$2" cpu0
  cpu0="$(cluster_cpu_ms)"
  sleep "$seconds"
  R[$rows|idle_cpu_hour]="$(awk -v ms=$(($(cluster_cpu_ms) - cpu0)) -v w="$seconds" 'BEGIN {printf "%.1f", ms * 3600 / w}')"
}

# The scrape-time peer goes on running the queries of scrapes whose clients are gone: wait
# (at most 180 s) until its role has no active statement, so the next run starts clean.
drain() {
  local role="$1" i
  for ((i = 0; i < 360; i++)); do
    [[ "$(super -At -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$role' AND state = 'active'")" == 0 ]] && return 0
    sleep 0.5
  done
  log "warning: $role still busy after 180 s"
}

# Everything about one exporter at one size with the recommended indexes.
measure_exporter() {
  local rows="$1" name="$2" key="$1|idx|$2" started slow=0
  [[ $name == postgres_exporter ]] && slow=1
  log "$rows rows, indexed: $name"
  started=$(now_ms)
  reset_role_statements "${ROLE[$name]}"
  start_exporter "$name" "$RECOMMENDED_FLAGS"
  R[$key|first_ms]="$(wait_first_good_scrape "$name" "$started")"
  [[ $name == opswatch ]] && first_cycle "$key" "${ROLE[$name]}"
  run_wrk 1 "$WARMUP_SECONDS"
  R[$key|rss_warm]=$(rss_kib "$EXPORTER_PID")
  R[$key|size]="$(curl -fsS -m 60 "$EXPORTER_URL" | wc -c)"
  ((slow)) && drain "${ROLE[$name]}"
  db_time "$key" "${ROLE[$name]}" "$DB_WINDOW"
  local bound=$SCRAPES_BOUND
  ((slow)) && bound=$SCRAPES_BOUND_SLOW
  scrape_many "$SCRAPES" "$bound"
  R[$key|scrapes]=$SCRAPES_OK
  R[$key|scrape_err]=$SCRAPES_FAILED
  R[$key|rss_10k]=$(rss_kib "$EXPORTER_PID")
  local c d
  for c in "${CONCURRENCY[@]}"; do
    d=$LAT_SECONDS
    ((slow && c > 1)) && d=$LAT_SECONDS_SLOW
    ((slow)) && drain "${ROLE[$name]}"
    run_wrk "$c" "$d"
    R[$key|p50_$c]=$WRK_P50
    R[$key|p99_$c]=$WRK_P99
    R[$key|n_$c]=$WRK_N
    R[$key|err_$c]=$WRK_ERR
  done
  R[$key|rss_stress]=$(rss_kib "$EXPORTER_PID")
  R[$key|hwm]=$(hwm_kib "$EXPORTER_PID")
  R[$key|load]="$(cut -d ' ' -f 1-3 /proc/loadavg)"
  stop_exporter
  ((slow)) && drain "${ROLE[$name]}"
  return 0
}

# Without the recommended indexes: DB time, and the scrape-time peer's single-scraper latency.
measure_noindex() {
  local rows="$1" name="$2" key="$1|noidx|$2" started
  log "$rows rows, no recommended indexes: $name"
  started=$(now_ms)
  reset_role_statements "${ROLE[$name]}"
  start_exporter "$name" "$RECOMMENDED_FLAGS"
  R[$key|first_ms]="$(wait_first_good_scrape "$name" "$started")"
  [[ $name == opswatch ]] && first_cycle "$key" "${ROLE[$name]}"
  db_time "$key" "${ROLE[$name]}" "$DB_WINDOW_NOIDX"
  if [[ $name == postgres_exporter ]]; then
    drain "${ROLE[$name]}"
    run_wrk 1 "$LAT_SECONDS"
    R[$key|p50_1]=$WRK_P50
    R[$key|p99_1]=$WRK_P99
    R[$key|n_1]=$WRK_N
    R[$key|err_1]=$WRK_ERR
  fi
  stop_exporter
  if [[ $name == postgres_exporter ]]; then drain "${ROLE[$name]}"; fi
}

# Resident memory of opswatch under each JVM flag set (at the last size, indexed).
measure_flags() {
  local i entry label flags key started
  for i in "${!FLAG_SETS[@]}"; do
    entry="${FLAG_SETS[$i]}"
    label="${entry%%|*}"
    flags="${entry#*|}"
    key="flags|$i"
    log "JVM flags: $label"
    R[$key|label]="$label"
    R[$key|flags]="$flags"
    started=$(now_ms)
    start_exporter opswatch "$flags"
    R[$key|first_ms]="$(wait_first_good_scrape opswatch "$started")"
    run_wrk 1 "$WARMUP_SECONDS"
    R[$key|rss_warm]=$(rss_kib "$EXPORTER_PID")
    scrape_many "$SCRAPES" "$SCRAPES_BOUND"
    R[$key|scrapes]=$SCRAPES_OK
    R[$key|scrape_err]=$SCRAPES_FAILED
    # Steady state: one more refresh of every source, scraped once as Prometheus would.
    sleep $((FRESHNESS + 1))
    curl -fsS -m 30 -o /dev/null "$EXPORTER_URL" || true
    R[$key|rss_10k]=$(rss_kib "$EXPORTER_PID")
    run_wrk 1 "$LAT_SECONDS"
    R[$key|p50_1]=$WRK_P50
    R[$key|p99_1]=$WRK_P99
    run_wrk 64 "$LAT_SECONDS"
    R[$key|p50_64]=$WRK_P50
    R[$key|p99_64]=$WRK_P99
    R[$key|err_64]=$WRK_ERR
    R[$key|rss_stress]=$(rss_kib "$EXPORTER_PID")
    R[$key|hwm]=$(hwm_kib "$EXPORTER_PID")
    stop_exporter
  done
}

# ---------------------------------------------------------------------------- report
declare -A R=()
fmt() { awk -v v="$1" 'BEGIN {if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) {r = a / b; if (r >= 100) printf "%.0f", r; else if (r >= 10) printf "%.1f", r; else printf "%.2f", r} else print "n/a"}'; }
human_rows() { awk -v n="$1" 'BEGIN {if (n >= 1e6) printf "%gM", n / 1e6; else printf "%gk", n / 1e3}'; }
ms_to_s() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1000}'; }

write_report() {
  local small="${SIZES[0]}" large="${SIZES[-1]}" rows name key c
  {
    echo "# Benchmark: opswatch vs prometheus-sql-exporter vs prometheus-postgres-exporter"
    echo
    echo "Generated by \`bench/run.sh${MODE_ARG}\` on ${R[meta|date]}; total run time ${R[meta|minutes]} min."
    echo "Methods and caveats: \`bench/README.md\`. The machine is small and shared, so compare the"
    echo "ratios within this run rather than absolute numbers across runs."
    echo
    echo "## Machine and software"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | ${R[meta|cpu]} |"
    echo "| CPU placement | ${R[meta|placement]:-none} |"
    echo "| memory | ${R[meta|memory]} |"
    echo "| kernel | ${R[meta|kernel]} |"
    echo "| OS | ${R[meta|os]} |"
    echo "| PostgreSQL | ${R[meta|postgres]} (throwaway cluster: \`scripts/pg-throwaway.sh\`, fsync off, default shared_buffers and work_mem, pg_stat_statements with track_planning) |"
    echo "| opswatch | ${R[meta|opswatch]} |"
    echo "| prometheus-sql-exporter | ${R[meta|sql_exporter]} (Debian; upstream credativ/sql_exporter, a fork of justwatchcom's) |"
    echo "| prometheus-postgres-exporter | ${R[meta|postgres_exporter]} (Debian) |"
    echo "| load tool | wrk ${R[meta|wrk]} (closed loop; percentiles from \`--latency\`) |"
    echo
    echo "## Commands"
    echo
    echo '```sh'
    echo "bench/run.sh${MODE_ARG}"
    echo "# data:      psql -v step=prepare|sessions|events|done -v sessions=N -v days=60 -f bench/generate.sql"
    echo "# indexes:   psql -f exporter/sql/indexes.sql"
    echo "# opswatch:  java $RECOMMENDED_FLAGS -jar opswatch-exporter.jar"
    echo "#            (CONFIG_FORCE_opswatch_sources_{costs,quotas_fast,quotas,incidents}_refresh__interval=${FRESHNESS}s)"
    echo "# sql:       prometheus-sql-exporter -config.file sql-exporter.yml        (job interval ${FRESHNESS}s, keepalive)"
    echo "# postgres:  prometheus-postgres-exporter --extend.query-path=queries.yaml --disable-default-metrics \\"
    echo "#              --disable-settings-metrics --no-collector.database --no-collector.bgwriter"
    echo "# latency:   wrk -t min(C,2) -c C -d ${LAT_SECONDS}s --timeout 120s --latency URL    (C = 1, 8, 64; ${LAT_SECONDS_SLOW}s for the scrape-time peer at C > 1)"
    echo "# scrapes:   curl -s --parallel --parallel-max 8 -K <$SCRAPES x URL>    (at most ${SCRAPES_BOUND}s; ${SCRAPES_BOUND_SLOW}s for the scrape-time peer)"
    echo "# DB time:   pg_stat_statements_reset(role); curl every ${FRESHNESS}s for ${DB_WINDOW}s (${DB_WINDOW_NOIDX}s without indexes); sum exec+plan time"
    echo '```'
    echo
    echo "## Data"
    echo
    echo "| size | generation | rows (table, live rows, size with indexes) | month-to-date session rows | recommended indexes: build, size |"
    echo "|---|---|---|---|---|"
    for rows in "${SIZES[@]}"; do
      echo "| $(human_rows "$rows") | $(ms_to_s "${R[$rows|gen_ms]}") s | ${R[$rows|tables]} | ${R[$rows|mtd]} | $(ms_to_s "${R[$rows|index_ms]}") s, ${R[$rows|index_size]} |"
    done
    echo
    echo "## Scrape latency (recommended indexes)"
    echo
    echo "p50 / p99 in ms; n = completed scrapes; ratio = opswatch p99 / peer p99 (below 1: opswatch is faster)."
    echo
    echo "| size | concurrency | opswatch p50 / p99 (n) | sql_exporter p50 / p99 (n) | postgres_exporter p50 / p99 (n) | p99 ratio vs sql_exporter | p99 ratio vs postgres_exporter |"
    echo "|---|---|---|---|---|---|---|"
    for rows in "${SIZES[@]}"; do
      for c in "${CONCURRENCY[@]}"; do
        local cells="" o="$rows|idx|opswatch"
        for name in "${EXPORTERS[@]}"; do
          key="$rows|idx|$name"
          cells+=" $(fmt "${R[$key|p50_$c]}") / $(fmt "${R[$key|p99_$c]}") (${R[$key|n_$c]}$(errors_note "${R[$key|err_$c]:-0}")) |"
        done
        echo "| $(human_rows "$rows") | $c |$cells $(ratio "${R[$o|p99_$c]}" "${R[$rows|idx|sql_exporter|p99_$c]}") | $(ratio "${R[$o|p99_$c]}" "${R[$rows|idx|postgres_exporter|p99_$c]}") |"
      done
    done
    echo
    echo "Response sizes: $(for rows in "${SIZES[@]}"; do for name in "${EXPORTERS[@]}"; do printf '%s %s %s B; ' "$(human_rows "$rows")" "$name" "${R[$rows|idx|$name|size]}"; done; done)"
    echo
    echo "## Database time per hour at ${FRESHNESS} s freshness"
    echo
    echo "**DB s/hour**: pg_stat_statements exec + planning time of the exporter's role (statement wall time), per"
    echo "refresh cycle, x $((3600 / FRESHNESS)) cycles an hour, split by query group. **DB CPU s/hour**: CPU time of the whole"
    echo "cluster (backends and parallel workers, from /proc) over the same window, per cycle, x $((3600 / FRESHNESS)): it does not"
    echo "grow when queries wait for each other. Idle cluster: $(for rows in "${SIZES[@]}"; do printf '%s %s s/hour; ' "$(human_rows "$rows")" "$(ms_to_s "${R[$rows|idle_cpu_hour]:-0}")"; done)"
    echo "Window: ${DB_WINDOW} s per exporter with the recommended indexes, ${DB_WINDOW_NOIDX} s without. opswatch reads the"
    echo "month's past days once an hour and only today's rows per refresh; column *past days* is that hourly re-read"
    echo "(its first refresh cycle minus a steady one, once an hour), included in DB s/hour. With an admin token opswatch"
    echo "also runs the recent-incidents query (column recent); the bench sets none, as the peers have no such API."
    echo
    echo "| size | indexes | exporter | DB s/hour | cost | quota | incident | recent | past days | other | cycles | ratio opswatch / this | DB CPU s/hour | CPU ratio opswatch / this |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    local phase
    for rows in "${SIZES[@]}"; do
      for phase in noidx idx; do
        for name in "${EXPORTERS[@]}"; do
          key="$rows|$phase|$name"
          echo "| $(human_rows "$rows") | $([[ $phase == idx ]] && echo with || echo without) | $name | $(fmt "$(ms_to_s "${R[$key|db_hour]}")") | $(ms_to_s "${R[$key|db_hour_cost]:-0}") | $(ms_to_s "${R[$key|db_hour_quota]:-0}") | $(ms_to_s "${R[$key|db_hour_incident]:-0}") | $(ms_to_s "${R[$key|db_hour_recent]:-0}") | $(ms_to_s "${R[$key|db_hour_pastdays]:-0}") | $(ms_to_s "${R[$key|db_hour_other]:-0}") | ${R[$key|db_cycles_cost]:-0} | $(ratio "${R[$rows|$phase|opswatch|db_hour]}" "${R[$key|db_hour]}") | $(fmt "$(ms_to_s "${R[$key|cpu_hour]:-0}")") | $(ratio "${R[$rows|$phase|opswatch|cpu_hour]:-0}" "${R[$key|cpu_hour]:-0}") |"
        done
      done
    done
    echo
    echo "## Memory and start-up (recommended indexes)"
    echo
    echo "RSS from /proc/PID/status. Warm-up: the first good scrape, then ${WARMUP_SECONDS} s of scraping by one client. Order per"
    echo "exporter: warm-up, DB-time window, $SCRAPES scrapes by 8 clients, the latency runs (1, 8, 64 clients)."
    echo
    echo "| size | exporter | start to first good scrape | RSS after warm-up | scrapes done | RSS after them | RSS after the 64-client run | peak RSS | load average at the end |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for rows in "${SIZES[@]}"; do
      for name in "${EXPORTERS[@]}"; do
        key="$rows|idx|$name"
        echo "| $(human_rows "$rows") | $name | $(fmt "${R[$key|first_ms]}") ms | $(mib "${R[$key|rss_warm]}") MiB | ${R[$key|scrapes]} | $(mib "${R[$key|rss_10k]}") MiB | $(mib "${R[$key|rss_stress]}") MiB | $(mib "${R[$key|hwm]}") MiB | ${R[$key|load]} |"
      done
    done
    echo
    echo "## Growth from $(human_rows "$small") to $(human_rows "$large") rows (recommended indexes)"
    echo
    echo "Ratio of the $(human_rows "$large") figure to the $(human_rows "$small") one (1.00 = flat)."
    echo
    echo "| exporter | p99 at 1 | p99 at 8 | p99 at 64 | DB time per hour | first good scrape | RSS after scrapes |"
    echo "|---|---|---|---|---|---|---|"
    for name in "${EXPORTERS[@]}"; do
      local s="$small|idx|$name" l="$large|idx|$name"
      echo "| $name | $(ratio "${R[$l|p99_1]}" "${R[$s|p99_1]}") | $(ratio "${R[$l|p99_8]}" "${R[$s|p99_8]}") | $(ratio "${R[$l|p99_64]}" "${R[$s|p99_64]}") | $(ratio "${R[$l|db_hour]}" "${R[$s|db_hour]}") | $(ratio "${R[$l|first_ms]}" "${R[$s|first_ms]}") | $(ratio "${R[$l|rss_10k]}" "${R[$s|rss_10k]}") |"
    done
    echo
    echo "## What the recommended indexes change"
    echo
    echo "DB time per refresh cycle in ms, without -> with \`exporter/sql/indexes.sql\` (same queries for all three)."
    echo
    echo "| size | exporter | cost queries | quota queries | incident queries | whole cycle | postgres_exporter p99 at 1 scraper |"
    echo "|---|---|---|---|---|---|---|"
    for rows in "${SIZES[@]}"; do
      for name in "${EXPORTERS[@]}"; do
        local n="$rows|noidx|$name" i="$rows|idx|$name" grp cells=""
        for grp in cost quota incident; do
          cells+=" $(per_cycle "$n" "$grp") -> $(per_cycle "$i" "$grp") |"
        done
        local whole_n whole_i
        whole_n="$(awk -v h="${R[$n|db_hour]}" -v f="$FRESHNESS" 'BEGIN {printf "%.0f", h / (3600 / f)}')"
        whole_i="$(awk -v h="${R[$i|db_hour]}" -v f="$FRESHNESS" 'BEGIN {printf "%.0f", h / (3600 / f)}')"
        local lat=""
        [[ $name == postgres_exporter ]] && lat="$(fmt "${R[$n|p99_1]}") -> $(fmt "${R[$i|p99_1]}") ms"
        echo "| $(human_rows "$rows") | $name |$cells $whole_n -> $whole_i | $lat |"
      done
    done
    echo
    echo "## JVM flags and resident memory (opswatch, $(human_rows "$large") rows, indexed)"
    echo
    echo "Per flag set: start, warm-up, $SCRAPES scrapes by 8 clients, one more refresh and scrape (steady state), then"
    echo "latency with 1 and with 64 clients."
    echo
    echo "| flags | start to first good scrape | RSS after warm-up | RSS at steady state | RSS after 64 clients | peak RSS | p50 / p99 at 1 | p50 / p99 at 64 |"
    echo "|---|---|---|---|---|---|---|---|"
    local i
    for i in "${!FLAG_SETS[@]}"; do
      key="flags|$i"
      echo "| ${R[$key|label]}: \`${R[$key|flags]:-(none)}\` | $(fmt "${R[$key|first_ms]}") ms | $(mib "${R[$key|rss_warm]}") MiB | $(mib "${R[$key|rss_10k]}") MiB | $(mib "${R[$key|rss_stress]}") MiB | $(mib "${R[$key|hwm]}") MiB | $(fmt "${R[$key|p50_1]}") / $(fmt "${R[$key|p99_1]}") ms | $(fmt "${R[$key|p50_64]}") / $(fmt "${R[$key|p99_64]}") ms |"
    done
    echo
    echo "Used by the start script \`exporter/bin/opswatch-exporter\` (the container image's entrypoint): \`$RECOMMENDED_FLAGS\`"
    echo
    targets
  } >"$OUT"
}

errors_note() {
  if (($1 > 0)); then echo ", $1 errors"; fi
  return 0
}

per_cycle() {
  local key="$1" grp="$2"
  awk -v ms="${R[$key|db_ms_$grp]:-0}" -v c="${R[$key|db_cycles_$grp]:-0}" 'BEGIN {if (c > 0) printf "%.0f", ms / c; else print "-"}'
}

verdict() { if awk -v x="$1" 'BEGIN {exit !(x)}'; then echo "**met**"; else echo "**NOT met**"; fi; }

targets() {
  local small="${SIZES[0]}" large="${SIZES[-1]}" c line
  echo "## Targets"
  echo
  echo "| target | result | verdict |"
  echo "|---|---|---|"
  # 1. p99 no worse than the interval-based peer's, at every size and concurrency.
  line=""
  local ok=1 rows
  for rows in "${SIZES[@]}"; do
    for c in "${CONCURRENCY[@]}"; do
      local r
      r="$(ratio "${R[$rows|idx|opswatch|p99_$c]}" "${R[$rows|idx|sql_exporter|p99_$c]}")"
      line+="$(human_rows "$rows")/$c: $r; "
      awk -v r="$r" 'BEGIN {exit !(r > 1)}' && ok=0
    done
  done
  echo "| p99 no worse than sql_exporter's (ratio opswatch/sql_exporter, size/concurrency) | $line | $(verdict "$ok") |"
  # 2. >= 100x better than the scrape-time peer at the small size.
  line=""
  ok=1
  for c in "${CONCURRENCY[@]}"; do
    local r
    r="$(ratio "${R[$small|idx|postgres_exporter|p99_$c]}" "${R[$small|idx|opswatch|p99_$c]}")"
    line+="$c: ${r}x; "
    awk -v r="$r" 'BEGIN {exit !(r < 100)}' && ok=0
  done
  echo "| p99 at least 100x better than postgres_exporter's at $(human_rows "$small") rows (postgres_exporter/opswatch, per concurrency) | $line | $(verdict "$ok") |"
  # 3. flat from small to large: p99 within noise (< 1.5x) at each concurrency.
  line=""
  ok=1
  for c in "${CONCURRENCY[@]}"; do
    local r
    r="$(ratio "${R[$large|idx|opswatch|p99_$c]}" "${R[$small|idx|opswatch|p99_$c]}")"
    line+="$c: $r; "
    awk -v r="$r" 'BEGIN {exit !(r > 1.5)}' && ok=0
  done
  echo "| opswatch p99 flat from $(human_rows "$small") to $(human_rows "$large") rows (ratio, per concurrency; flat = under 1.5x on this noisy machine) | $line | $(verdict "$ok") |"
  # 4. least DB time of the three (indexed, both sizes).
  line=""
  ok=1
  for rows in "${SIZES[@]}"; do
    local o="${R[$rows|idx|opswatch|db_hour]}" s="${R[$rows|idx|sql_exporter|db_hour]}" p="${R[$rows|idx|postgres_exporter|db_hour]}"
    line+="$(human_rows "$rows"): opswatch $(ms_to_s "$o") s/h, sql_exporter $(ms_to_s "$s"), postgres_exporter $(ms_to_s "$p") (CPU $(ms_to_s "${R[$rows|idx|opswatch|cpu_hour]:-0}"), $(ms_to_s "${R[$rows|idx|sql_exporter|cpu_hour]:-0}"), $(ms_to_s "${R[$rows|idx|postgres_exporter|cpu_hour]:-0}")); "
    awk -v o="$o" -v s="$s" -v p="$p" 'BEGIN {exit !(o > s || o > p)}' && ok=0
  done
  echo "| least database time of the three (pg_stat_statements time; indexed, ${FRESHNESS} s freshness; DB CPU in parentheses) | $line | $(verdict "$ok") |"
  # 5. RSS < 64 MiB at steady state with the recommended flags.
  line=""
  ok=1
  for rows in "${SIZES[@]}"; do
    line+="$(human_rows "$rows"): $(mib "${R[$rows|idx|opswatch|rss_10k]}") MiB; "
    ((${R[$rows|idx|opswatch|rss_10k]} >= 65536)) && ok=0
  done
  echo "| opswatch RSS under 64 MiB at steady state (recommended flags, after the scrapes) | $line | $(verdict "$ok") |"
}

# ---------------------------------------------------------------------------- main
collect_meta() {
  R[meta|date]="$(date -u '+%Y-%m-%d %H:%M UTC')"
  R[meta|cpu]="$(nproc) cores, $(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  R[meta|memory]="$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  R[meta|kernel]="$(uname -sr)"
  R[meta|os]="$(awk -F= '/^PRETTY_NAME=/ {gsub(/"/, "", $2); print $2}' /etc/os-release)"
  R[meta|postgres]="$("$PG_BIN_DIR/postgres" --version | awk '{print $3}')"
  local dirty=""
  git -C "$REPO" diff --quiet HEAD -- exporter 2>/dev/null || dirty=" + uncommitted changes"
  R[meta|opswatch]="$(java -jar "$WORK/opswatch-exporter.jar" --version 2>/dev/null | awk '{print $NF}') ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$dirty), $(java -version 2>&1 | head -1)"
  R[meta|sql_exporter]="$(dpkg-query -W -f='${Version}' prometheus-sql-exporter)"
  R[meta|postgres_exporter]="$(dpkg-query -W -f='${Version}' prometheus-postgres-exporter)"
  R[meta|wrk]="$(dpkg-query -W -f='${Version}' wrk)"
}

# The results and the settings they were taken with, as bash, for --report-from.
save_results() {
  R[meta|minutes]=$(((SECONDS + 30) / 60))
  declare -p R MODE MODE_ARG SIZES FRESHNESS DB_WINDOW DB_WINDOW_NOIDX LAT_SECONDS LAT_SECONDS_SLOW SCRAPES \
    SCRAPES_BOUND SCRAPES_BOUND_SLOW WARMUP_SECONDS FLAG_SETS RECOMMENDED_FLAGS \
    | sed -E 's/^declare -- /declare -g /; s/^declare -([aA])/declare -g\1/' >"$RAW"
}

main() {
  RAW="${OUT%.md}-raw.sh"
  if [[ -n $REPORT_FROM ]]; then
    # shellcheck disable=SC1090
    source "$REPORT_FROM"
    write_report
    log "wrote $OUT from $REPORT_FROM"
    return
  fi
  MODE_ARG=""
  [[ $MODE == quick ]] && MODE_ARG=" --quick"
  install_prerequisites
  PG_BIN_DIR="${PG_BIN:-/usr/lib/postgresql/15/bin}"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-bench.XXXXXX")"
  [[ "$(id -u)" == 0 ]] && chmod 755 "$WORK"
  log "work directory $WORK, mode $MODE, sizes ${SIZES[*]}"

  if ((BUILD)); then
    log "building the exporter"
    (cd "$REPO" && mvn -B -q -ntp package -DskipTests) >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; die "build"; }
  fi
  [[ -f "$REPO/exporter/target/opswatch-exporter.jar" ]] || die "no exporter/target/opswatch-exporter.jar (drop --no-build)"
  cp "$REPO/exporter/target/opswatch-exporter.jar" "$WORK/opswatch-exporter.jar"

  collect_meta
  pin_cpus
  start_database
  peer_configs "postgres://bench_sql_exporter@127.0.0.1:$PGPORT/$DB?sslmode=disable"

  local rows name
  for rows in "${SIZES[@]}"; do
    database_cpus "0-$(($(nproc) - 1))"
    drop_recommended_indexes
    log "generating $rows session rows (60 days) and proportional rows"
    generate "$rows"
    log "generated in $(ms_to_s "${R[$rows|gen_ms]}") s: ${R[$rows|tables]}"
    database_cpus "$CPU_REST"
    for name in "${EXPORTERS[@]}"; do measure_noindex "$rows" "$name"; done
    log "creating the recommended indexes"
    database_cpus "0-$(($(nproc) - 1))"
    create_recommended_indexes "$rows"
    database_cpus "$CPU_REST"
    idle_cpu "$rows" 15
    for name in "${EXPORTERS[@]}"; do measure_exporter "$rows" "$name"; done
    save_results
  done
  measure_flags "${SIZES[-1]}"
  save_results
  write_report
  log "wrote $OUT"
}

main
