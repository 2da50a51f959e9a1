#!/usr/bin/env bash
# bench/soak.sh: the exporter for a long time with 1 s refresh intervals and steady scraping, sampled every
# 10 s (RSS, heap after GC, metaspace, threads, database connections, file descriptors); each series gets a
# fitted slope and a verdict, leak or flat (bench/soak.py). Results: bench/results/soak-<UTC time>.json and
# a Markdown section printed at the end (for bench/SOAK.md).
#
#   bench/soak.sh [--minutes 60] [--rows 100000] [--no-build] [--keep]
#
# This script only starts and stops processes: a throwaway PostgreSQL (scripts/pg-throwaway.sh) with
# bench/generate.sql's data (--rows session rows over 60 days) and exporter/sql/{role,indexes}.sql, the
# exporter through its start script (exporter/bin/opswatch-exporter, so with its JVM flags), and
# bench/soak.py, which scrapes, writes rows as the app would, samples and analyses. Loopback only, an
# OS-assigned port; everything it started is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
MINUTES=60
ROWS=100000
BUILD=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$MINUTES" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "soak.sh: --minutes must be a number, got $MINUTES" >&2; exit 2; }
[[ "$ROWS" =~ ^[0-9]+$ ]] || { echo "soak.sh: --rows must be a whole number, got $ROWS" >&2; exit 2; }

PY=/usr/bin/python3
WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-soak.XXXXXX")"
[[ "$(id -u)" == 0 ]] && chmod 755 "$WORK"
EXPORTER_PID=""
PG_STARTED=0
log() { echo "soak: $*" >&2; }

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local status=$?
  if [[ -n "$EXPORTER_PID" ]] && kill -0 "$EXPORTER_PID" 2>/dev/null; then
    kill "$EXPORTER_PID" 2>/dev/null || true
    wait "$EXPORTER_PID" 2>/dev/null || true
  fi
  if [[ $PG_STARTED == 1 ]]; then
    "$REPO/scripts/pg-throwaway.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  fi
  if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eval "$("$REPO/scripts/pg-throwaway.sh" start "$WORK/pg")"
PG_STARTED=1
DB_URL="postgresql://postgres@127.0.0.1:$OPSWATCH_TEST_PG_PORT/soak"
psql -X -q -v ON_ERROR_STOP=1 "postgresql://postgres@127.0.0.1:$OPSWATCH_TEST_PG_PORT/postgres" -c "CREATE DATABASE soak"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$DB_URL" "$@" >/dev/null; }
sql -f "$REPO/demo/schema.sql"
sql -f "$REPO/exporter/sql/role.sql"
log "generating $ROWS session rows"
sql -v step=prepare -v sessions="$ROWS" -v days=60 -f "$REPO/bench/generate.sql"
sql -v step=sessions -f "$REPO/bench/generate.sql"
sql -v step=events -f "$REPO/bench/generate.sql"
sql -v step=done -f "$REPO/bench/generate.sql"
sql -f "$REPO/exporter/sql/indexes.sql" 2>/dev/null

if [[ $BUILD == 1 ]]; then
  (cd "$REPO" && mvn -B -ntp -q package -DskipTests)
fi
JAR="$REPO/exporter/target/opswatch-exporter.jar"
[[ -f "$JAR" ]] || { echo "soak.sh: no $JAR (drop --no-build)" >&2; exit 2; }
cp "$JAR" "$WORK/opswatch-exporter.jar"

PORT="$($PY "$REPO/bench/soak.py" free-port)"
OPSWATCH_JAR="$WORK/opswatch-exporter.jar" \
  OPSWATCH_DATABASE_URL="postgresql://opswatch_reader@127.0.0.1:$OPSWATCH_TEST_PG_PORT/soak" \
  OPSWATCH_HTTP_PORT="$PORT" OPSWATCH_HTTP_BIND_ADDRESS=127.0.0.1 \
  CONFIG_FORCE_opswatch_sources_costs_refresh__interval=1s \
  CONFIG_FORCE_opswatch_sources_quotas___fast_refresh__interval=1s \
  CONFIG_FORCE_opswatch_sources_quotas_refresh__interval=1s \
  CONFIG_FORCE_opswatch_sources_incidents_refresh__interval=1s \
  "$REPO/exporter/bin/opswatch-exporter" >"$WORK/exporter.log" 2>&1 &
EXPORTER_PID=$!
log "exporter pid $EXPORTER_PID on 127.0.0.1:$PORT, for $MINUTES minutes"

mkdir -p "$REPO/bench/results"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
COMMIT="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$REPO" status --porcelain -- exporter 2>/dev/null)" ]] && COMMIT="$COMMIT+changes"
status=0
$PY "$REPO/bench/soak.py" run --pid "$EXPORTER_PID" --metrics "http://127.0.0.1:$PORT/metrics" --db-url "$DB_URL" \
  --minutes "$MINUTES" --samples "$WORK/samples.jsonl" --out "$REPO/bench/results/soak-$STAMP.json" --commit "$COMMIT" \
  --setup "$ROWS session rows (bench/generate.sql), indexes.sql; every source refreshed every 1 s; one client scraping every 250 ms; 15 rows written every 10 s; start script flags ($(sed -n 's/^DEFAULT_JAVA_OPTS="\(.*\)"$/\1/p' "$REPO/exporter/bin/opswatch-exporter")); $(java -version 2>&1 | head -1)." \
  || status=$?
if grep -q 'WARN\|ERROR' "$WORK/exporter.log"; then
  log "the exporter logged warnings or errors:"
  grep 'WARN\|ERROR' "$WORK/exporter.log" | sort | uniq -c | sort -rn | head -20 >&2
fi
log "results: bench/results/soak-$STAMP.json"
exit "$status"
