#!/usr/bin/env bash
# A/B of two or more opswatch exporter jars: scrape latency and RSS with wrk at 1, 8 and 64 clients,
# on one throwaway PostgreSQL, the jars interleaved round by round. For a change of the HTTP path,
# where the full bench (bench/run.sh, ~75 minutes) is too slow to iterate with; it does not
# replace the full bench's comparison with the peers. Results: bench/AB.md.
#
#   bench/ab.sh [--rows N] [--rounds N] [--seconds N] JAR JAR...
#   e.g. git worktree add /tmp/old REV && (cd /tmp/old && mvn -q package -DskipTests) &&
#        bench/ab.sh /tmp/old/exporter/target/opswatch-exporter.jar exporter/target/opswatch-exporter.jar
#
# As bench/run.sh: PostgreSQL on CPU 1, the exporter and wrk on CPU 0 (taskset), the start script's
# JVM flags, the per-address connection cap raised to 64 for wrk's clients (jars from before that key
# ignore it). Prints one line per measurement.
set -euo pipefail
export LC_ALL=C

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS=100000
ROUNDS=3
SECONDS_PER_RUN=20
while [[ $# -gt 0 && $1 == --* ]]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 1 ]] || { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
for tool in wrk taskset curl psql java; do
  command -v "$tool" >/dev/null || { echo "ab.sh: $tool is missing (bench/run.sh installs it)" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/opswatch-ab.XXXXXX")"
FLAGS="$(sed -n 's/^DEFAULT_JAVA_OPTS="\([^"]*\)"$/\1/p' "$REPO/exporter/bin/opswatch-exporter")"
EXPORTER=""
cleanup() {
  [[ -n $EXPORTER ]] && kill "$EXPORTER" 2>/dev/null
  "$REPO/scripts/pg-throwaway.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

chmod 755 "$WORK" # the cluster runs as postgres when we are root
exports="$("$REPO/scripts/pg-throwaway.sh" start "$WORK/pg")" || { cat "$WORK/pg/server.log" >&2; exit 1; }
eval "$exports"
PG="postgresql://postgres@127.0.0.1:$OPSWATCH_TEST_PG_PORT"
sql() { psql -X -q -v ON_ERROR_STOP=1 "$PG/ab" "$@" >/dev/null; }
psql -X -q "$PG/postgres" -c "CREATE DATABASE ab" >/dev/null
sql -f "$REPO/demo/schema.sql" -f "$REPO/exporter/sql/role.sql"
sql -v step=prepare -v sessions="$ROWS" -v days=60 -f "$REPO/bench/generate.sql"
sql -v step=sessions -f "$REPO/bench/generate.sql" &
sessions=$!
sql -v step=events -f "$REPO/bench/generate.sql"
wait "$sessions"
sql -v step=done -f "$REPO/bench/generate.sql"
sql -f "$REPO/exporter/sql/indexes.sql"
postmaster="$(head -1 "$WORK/pg/data/postmaster.pid")"
for pid in "$postmaster" $(pgrep -P "$postmaster"); do taskset -pc 1 "$pid" >/dev/null; done

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

for round in $(seq "$ROUNDS"); do
  for jar in "$@"; do
    port="$(/usr/bin/python3 "$REPO/bench/bench.py" free-port)"
    # shellcheck disable=SC2086 # FLAGS is a list of JVM flags
    env -u JAVA_TOOL_OPTIONS OPSWATCH_DATABASE_URL="postgresql://opswatch_reader@127.0.0.1:$OPSWATCH_TEST_PG_PORT/ab" \
      OPSWATCH_HTTP_PORT="$port" OPSWATCH_LOG_LEVEL=warn CONFIG_FORCE_opswatch_http_bind__address=127.0.0.1 \
      CONFIG_FORCE_opswatch_http_max__connections__per__address=64 \
      taskset -c 0 java $FLAGS -jar "$jar" >"$WORK/exporter.log" 2>&1 &
    EXPORTER=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.3; done
    curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null || { cat "$WORK/exporter.log" >&2; exit 1; }
    taskset -c 0 wrk -t2 -c64 -d5s "http://127.0.0.1:$port/metrics" >/dev/null # warm-up, not reported
    echo "round=$round jar=$jar rss_after_warmup_kib=$(rss_kib "$EXPORTER")"
    for clients in 1 8 64; do
      out="$(taskset -c 0 wrk -t"$((clients < 2 ? 1 : 2))" -c"$clients" -d"${SECONDS_PER_RUN}s" --timeout 60s --latency \
        "http://127.0.0.1:$port/metrics")"
      errors="$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr '\n' ' ' || true)"
      echo "round=$round jar=$jar clients=$clients p50=$(awk '/^ +50%/ {print $2}' <<<"$out")" \
        "p99=$(awk '/^ +99%/ {print $2}' <<<"$out") requests=$(awk '/requests in/ {print $1}' <<<"$out")" \
        "rss_kib=$(rss_kib "$EXPORTER") threads=$(find "/proc/$EXPORTER/task" -mindepth 1 -maxdepth 1 | wc -l) $errors"
    done
    kill "$EXPORTER"
    wait "$EXPORTER" 2>/dev/null || true
    EXPORTER=""
  done
done
