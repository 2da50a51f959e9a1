#!/usr/bin/env bash
# DEMO ONLY: the compose stack's stand-in for the app's users. Every DEMO_INTERVAL_SECONDS it runs
# traffic.sql: what the app would write (text sessions, realtime voice turns, the odd video-vision
# session, external API calls as TelemetryEvent rows, now and then a SafetyEvent), so that every
# panel moves. How much of it costs money is set by DEMO_MODE:
#
#   breach (default)  about 9.8 EUR an hour of LLM spend (a demo wants movement; the budget's own pace
#                     is about 0.11 EUR an hour), and after DEMO_BREACH_AFTER_SECONDS a runaway caller:
#                     one burst of expensive gpt-realtime turns that takes Azure OpenAI's month-to-date
#                     spend to DEMO_BREACH_RATIO times its budget, crossing the critical and the exceeded
#                     thresholds in the same exporter refresh (BudgetExceeded pages, BudgetSpendCritical
#                     is inhibited). Whenever the spend is below that again (a new month, a reset
#                     database), the next tick bursts again.
#   quiet             about a quarter of the budget's pace (a text session every ~13 minutes) and no
#                     burst: the live traffic never pushes a budget over a threshold by itself.
#
# The figures are measured by demo/compose/tests/test_stack.py, which runs traffic.sql with the rates
# `demo-traffic.sh --plan` prints. The budget is read from the exporter
# (opswatch_budget_eur{provider="azure_openai"}), else DEMO_BUDGET_EUR. DEMO_BREACH_RATIO=0 turns the
# burst off.
#
# Runs in the postgres image (psql, busybox wget), as the database owner: the exporter and Grafana only
# ever read, as opswatch_reader. Connection: PG* variables, the password from the file named by
# POSTGRES_PASSWORD_FILE. Stops at once on SIGTERM or SIGINT (`docker compose stop`/`down`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${DEMO_MODE:-breach}"
interval="${DEMO_INTERVAL_SECONDS:-10}"
breach_after="${DEMO_BREACH_AFTER_SECONDS:-150}"
breach_ratio="${DEMO_BREACH_RATIO:-1.08}"
default_budget="${DEMO_BUDGET_EUR:-79}"
metrics_url="${DEMO_EXPORTER_METRICS_URL:-http://exporter:9824/metrics}"
traffic_sql="${DEMO_TRAFFIC_SQL:-$here/traffic.sql}"

log() { printf '%s demo-traffic: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

number() {  # number NAME VALUE: refuse anything but a plain decimal (values go into SQL)
  [[ "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || { log "$1 must be a number, got '$2'"; exit 2; }
}
number DEMO_INTERVAL_SECONDS "$interval"
number DEMO_BREACH_AFTER_SECONDS "$breach_after"
number DEMO_BREACH_RATIO "$breach_ratio"
number DEMO_BUDGET_EUR "$default_budget"

# Expected rows per tick (traffic.sql's variables).
case "$mode" in
  breach) text_per_tick=1 voice_per_tick=0.33 realtime_share=0.15 video_per_tick=0.03 ;;
  quiet) text_per_tick=0.0125 voice_per_tick=0 realtime_share=0 video_per_tick=0 breach_ratio=0 ;;
  *) log "DEMO_MODE must be breach or quiet, got '$mode'"; exit 2 ;;
esac

if [[ "${1:-}" == --plan ]]; then  # the effective settings, for the tests and the curious
  printf '%s=%s\n' mode "$mode" interval_seconds "$interval" breach_after_seconds "$breach_after" \
    breach_ratio "$breach_ratio" text_per_tick "$text_per_tick" voice_per_tick "$voice_per_tick" \
    realtime_share "$realtime_share" video_per_tick "$video_per_tick"
  exit 0
fi

# Stop at once: the sleeps below run in the background and `wait` returns as soon as a trapped signal
# arrives (a foreground sleep would hold the signal until it ends).
sleeper=""
stop() {
  log "stopping"
  [[ -z "$sleeper" ]] || kill "$sleeper" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
pause() {
  sleep "$1" &
  sleeper=$!
  wait "$sleeper" || true
  sleeper=""
}

if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
  PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
  export PGPASSWORD
fi

psql_run() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Azure OpenAI's month-to-date spend, as the exporter's default cost queries count it.
# shellcheck disable=SC2016  # $$...$$ are SQL dollar quotes, not shell expansions
MTD_SQL='
WITH p AS (SELECT date_trunc($$month$$, now() AT TIME ZONE $$UTC$$) AS s)
SELECT round((
    (SELECT COALESCE(SUM("costEur"), 0) FROM session_metrics, p
      WHERE "createdAt" >= p.s AND NOT "isTestData" AND "costEur" BETWEEN 0 AND 1000)
  + (SELECT COALESCE(SUM("costEur"), 0) FROM voice_usage_events, p
      WHERE "createdAt" >= p.s AND NOT "isTestData" AND "costEur" BETWEEN 0 AND 1000)
  + (SELECT COALESCE(SUM("framesUsed"), 0) * 0.067 FROM "VideoVisionUsage", p
      WHERE "createdAt" >= p.s AND "framesUsed" >= 0)
  )::numeric, 2)'

# The runaway caller: gpt-realtime turns of at most 0.75 EUR each (about 12,600 audio output
# tokens, priced as voice-pricing.ts does) adding up to $1 EUR.
burst_sql() {
  cat <<SQL
INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioInputTokens", "audioOutputTokens",
                                "textInputTokens", "textOutputTokens", "cachedInputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT 've-burst-' || gen_random_uuid(), 'demo-user-13', 'vsess-burst-' || b.batch, 'gpt-realtime',
       0, b.aout, 0, 0, 0, round((b.aout * 64 / 1e6 / 1.08)::numeric, 6)::double precision,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), false,
       now() AT TIME ZONE 'UTC'
FROM (SELECT ceil($1 / 0.75)::int AS n, md5(now()::text) AS batch) AS plan,
     LATERAL (SELECT plan.batch, ceil($1 / plan.n * 1.08e6 / 64)::int AS aout) AS b,
     generate_series(1, plan.n);
SQL
}

exporter_budget() {  # the exporter's Azure OpenAI budget, or nothing
  wget -q -T 3 -O - "$metrics_url" 2>/dev/null \
    | awk '/^opswatch_budget_eur\{[^}]*provider="azure_openai"/ { print $2; exit }' || true
}

started=$SECONDS
tick=0
if [[ "$breach_ratio" == 0 ]]; then
  log "mode $mode: inserting usage every ${interval}s; no burst"
else
  log "mode $mode: inserting usage every ${interval}s; Azure OpenAI burst to ${breach_ratio} x its budget after ${breach_after}s"
fi
while true; do
  tick=$((tick + 1))
  if ! psql_run -v text_per_tick="$text_per_tick" -v voice_per_tick="$voice_per_tick" \
      -v realtime_share="$realtime_share" -v video_per_tick="$video_per_tick" -f "$traffic_sql" >/dev/null; then
    log "tick $tick: insert failed (database not reachable?); retrying in ${interval}s"
    pause "$interval"
    continue
  fi
  mtd="$(psql_run -c "$MTD_SQL" || echo "")"
  if [[ -z "$mtd" ]]; then
    log "tick $tick: cannot read the month-to-date spend; retrying in ${interval}s"
    pause "$interval"
    continue
  fi
  if [[ "$breach_ratio" != 0 ]] && ((SECONDS - started >= ${breach_after%.*})); then
    budget="$(exporter_budget)"
    [[ "$budget" =~ ^[0-9]+([.][0-9]+)?$ ]] || budget="$default_budget"
    gap="$(awk -v b="$budget" -v r="$breach_ratio" -v m="$mtd" 'BEGIN { g = b * r - m; printf "%.2f", (g > 0 ? g : 0) }')"
    if [[ "$gap" != 0.00 ]]; then
      if psql_run -c "$(burst_sql "$gap")" >/dev/null; then
        log "tick $tick: BURST: a runaway caller spent $gap EUR on gpt-realtime; Azure OpenAI is now past its $budget EUR budget (month to date $mtd + $gap EUR)"
        mtd="$(psql_run -c "$MTD_SQL" || echo "$mtd")"
      else
        log "tick $tick: burst failed; trying again next tick"
      fi
    fi
  fi
  if ((tick % 6 == 1)); then
    log "tick $tick: Azure OpenAI month to date $mtd EUR"
  fi
  pause "$interval"
done
