#!/usr/bin/env bash
# Reproduces issue #22's postgres_exporter row (cost queries at 1 ms per cycle, 0.1 s/hour, while
# sql_exporter ran the same SQL in seconds) and tests the suspected causes one at a time, each in a
# DB-time window of bench/bench.py (the same measurement and validity checks as bench/run.sh):
#
#   sql_exporter, postgres_exporter   the baseline, before midnight of the last day of a month
#   postgres_exporter, timeout        its role's statement_timeout lowered below the cost queries' time
#   postgres_exporter, rls            a restrictive row-level-security policy hides every row from it
#   postgres_exporter, scrape-timeout every scrape abandoned by the client after 1 s
#   postgres_exporter, sql_exporter   after midnight: the billing month has rolled over
#
#   bench/issue22.sh [SIZE]           # default 1000000 session rows; the issue's run had 10000000
#
# PostgreSQL runs under libfaketime starting shortly before midnight of 30 November (UTC), so that
# the last two windows fall in December. Prints one line per window and writes the raw JSON and a
# summary next to the other results (bench/results/issue22-SIZE.*).
set -euo pipefail
SIZE="${1:-1000000}"
set --
# shellcheck source=bench/run.sh
source "$(dirname "${BASH_SOURCE[0]}")/run.sh"

WINDOW=60
# Time before midnight that generation, indexes and four windows need (generous on a loaded machine).
lead=$((SIZE >= 10000000 ? 1500 : 660))
CLOCK="$(date -u -d "2026-12-01 00:00:00 UTC - $lead seconds" '+%Y-%m-%d %H:%M:%S UTC')"

fake_now() { super -At -c "SELECT extract(epoch FROM now())::bigint"; }
wait_until_fake() {
  local target="$1" now
  now="$(fake_now)"
  if ((now < target)); then log "waiting $((target - now)) s for the database clock"; sleep $((target - now)); fi
}

measure() {
  local name="$1" phase="$2"
  start_exporter "$name" "$RECOMMENDED_FLAGS"
  # shellcheck disable=SC2046
  bench_py first-scrape $(ident "$name" "$SIZE" "$phase" 1) --started-ms "$EXPORTER_STARTED" --bound 90 \
    --pid "$EXPORTER_PID" >/dev/null || log "$name: no good scrape in $phase"
  [[ $name == postgres_exporter ]] && drain "${ROLE[$name]}"
  window "$name" "$SIZE" "$phase" 1 "$WINDOW" || true
  stop_exporter
  [[ $name == postgres_exporter ]] && drain "${ROLE[$name]}"
  return 0
}

issue22() {
  install_prerequisites
  PG_BIN_DIR="${PG_BIN:-/usr/lib/postgresql/15/bin}"
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-issue22.XXXXXX")"
  [[ "$(id -u)" == 0 ]] && chmod 755 "$WORK"
  RAW="$WORK/raw.jsonl"
  [[ -f "$REPO/exporter/target/opswatch-exporter.jar" ]] || (cd "$REPO" && mvn -B -q -ntp package -DskipTests)
  cp "$REPO/exporter/target/opswatch-exporter.jar" "$WORK/opswatch-exporter.jar"
  set_clock
  PIN=0
  R_PLACEMENT="none"
  start_database
  log "clock: $R_CLOCK"
  record_meta
  bench_py peer-configs --dsn "postgres://bench_sql_exporter@127.0.0.1:$PGPORT/$DB?sslmode=disable" \
    --out-dir "$WORK" --interval "$FRESHNESS"
  log "generating $SIZE rows"
  generate "$SIZE"
  create_recommended_indexes "$SIZE"
  local midnight
  midnight="$(date -u -d '2026-12-01 00:00:00 UTC' +%s)"

  measure sql_exporter baseline
  measure postgres_exporter baseline
  # 1. statement_timeout: lower it for the peer's role below what a cost query takes here.
  super -c "ALTER ROLE bench_pg_exporter SET statement_timeout = '${TIMEOUT_MS:-100}ms'" >/dev/null
  measure postgres_exporter timeout
  super -c "ALTER ROLE bench_pg_exporter SET statement_timeout = '15s'" >/dev/null
  # 2. Row-level security that hides every row from the peer (as a missing policy would).
  super -c "CREATE POLICY bench_hide ON session_metrics AS RESTRICTIVE FOR SELECT TO bench_pg_exporter USING (false)" >/dev/null
  measure postgres_exporter rls
  super -c "DROP POLICY bench_hide ON session_metrics" >/dev/null
  # 3. Scrapes abandoned by the client (a scrape timeout) while the exporter's queries run on.
  SCRAPE_TIMEOUT=1 measure postgres_exporter scrape-timeout
  # 4. The month rolls over.
  wait_until_fake $((midnight + 10))
  measure postgres_exporter after-midnight
  measure sql_exporter after-midnight

  local out="$BENCH/results/issue22-$SIZE"
  mkdir -p "$BENCH/results"
  bench_py finish --raw "$RAW" --json-out "$out.json" --out /dev/null \
    --meta-end "{\"minutes\": $(((SECONDS + 30) / 60)), \"load_end\": \"$(cut -d ' ' -f 1-3 /proc/loadavg)\"}" 2>/dev/null || true
  bench_py windows "$out.json" | tee "$out.md"
}

issue22
