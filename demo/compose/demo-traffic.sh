#!/usr/bin/env bash
# DEMO ONLY: the compose stack's stand-in for the app's users. Every DEMO_INTERVAL_SECONDS it
# inserts what the app would write: text sessions, realtime voice turns, the odd video-vision
# session, external API calls (TelemetryEvent, category external_api) and now and then a
# SafetyEvent, so that every panel moves.
#
# After DEMO_BREACH_AFTER_SECONDS it plays a runaway LLM caller: one burst of expensive
# gpt-realtime turns that takes Azure OpenAI's month-to-date spend to DEMO_BREACH_RATIO times its
# budget. One burst, so that the critical and the exceeded thresholds are crossed in the same
# exporter refresh: BudgetExceeded pages, and BudgetSpendCritical is inhibited. Whenever the
# spend is below that again (a new month, a reset database), the next tick bursts again.
# The budget is read from the exporter (opswatch_budget_eur{provider="azure_openai"}), else
# DEMO_BUDGET_EUR. DEMO_BREACH_RATIO=0 turns the burst off.
#
# Runs in the postgres image (psql, busybox wget), as the database owner: the exporter and
# Grafana only ever read, as opswatch_reader. Connection: PG* variables, the password from the
# file named by POSTGRES_PASSWORD_FILE.
set -euo pipefail

interval="${DEMO_INTERVAL_SECONDS:-10}"
breach_after="${DEMO_BREACH_AFTER_SECONDS:-150}"
breach_ratio="${DEMO_BREACH_RATIO:-1.08}"
default_budget="${DEMO_BUDGET_EUR:-79}"
metrics_url="${DEMO_EXPORTER_METRICS_URL:-http://exporter:9824/metrics}"

log() { printf '%s demo-traffic: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

number() {  # number NAME VALUE: refuse anything but a plain decimal (values go into SQL)
  [[ "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || { log "$1 must be a number, got '$2'"; exit 2; }
}
number DEMO_INTERVAL_SECONDS "$interval"
number DEMO_BREACH_AFTER_SECONDS "$breach_after"
number DEMO_BREACH_RATIO "$breach_ratio"
number DEMO_BUDGET_EUR "$default_budget"

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

# One tick of ordinary traffic, in one transaction. random() per row: the LATERAL subqueries
# refer to the outer row (AS k) so that PostgreSQL evaluates them again for each.
# shellcheck disable=SC2016  # $$...$$ are SQL dollar quotes, not shell expansions
TRAFFIC_SQL='
BEGIN;
-- Text sessions: 0-2 (the seed has five an hour; a demo wants more movement).
INSERT INTO session_metrics ("id", "sessionId", "userId", "outcome", "turnCount", "tokensIn", "tokensOut",
                             "costEur", "isTestData", "createdAt", "updatedAt")
SELECT $$sm-live-$$ || gen_random_uuid(), $$sess-live-$$ || gen_random_uuid(),
       $$demo-user-$$ || (1 + floor(random() * 40))::int,
       (ARRAY[$$success$$, $$success$$, $$success$$, $$dropped$$, $$abandoned$$])[1 + floor(random() * 5)::int],
       2 + floor(random() * 12)::int, t.tin, t.tout,
       round(((t.tin + t.tout) * 0.002 / 1000)::numeric, 3)::double precision,
       false, now() AT TIME ZONE $$UTC$$, now() AT TIME ZONE $$UTC$$
FROM generate_series(1, floor(random() * 3)::int) AS g,
     LATERAL (SELECT (800 + floor(random() * 2400))::int AS tin, (300 + floor(random() * 1200))::int AS tout, g AS k) AS t;

-- A realtime voice turn, one tick in three, priced as voice-pricing.ts does.
INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioInputTokens", "audioOutputTokens",
                                "textInputTokens", "textOutputTokens", "cachedInputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT $$ve-live-$$ || gen_random_uuid(), $$demo-user-$$ || (1 + floor(random() * 40))::int, $$vsess-live-$$ || gen_random_uuid(),
       v.model, v.ain, v.aout, v.tin, v.tout, v.cached,
       round(((CASE WHEN v.model = $$gpt-realtime$$ THEN (v.ain * 32 + v.aout * 64 + v.tin * 4 + v.tout * 16 + v.cached * 0.4)
                    ELSE (v.ain * 10 + v.aout * 20 + v.tin * 0.6 + v.tout * 2.4 + v.cached * 0.06) END) / 1e6 / 1.08)::numeric, 6)::double precision,
       to_char(now() AT TIME ZONE $$UTC$$, $$YYYY-MM-DD$$), to_char(now() AT TIME ZONE $$UTC$$, $$YYYY-MM$$), false, now() AT TIME ZONE $$UTC$$
FROM generate_series(1, CASE WHEN random() < 0.33 THEN 1 ELSE 0 END) AS g,
     LATERAL (SELECT CASE WHEN random() < 0.15 THEN $$gpt-realtime$$ ELSE $$gpt-realtime-mini$$ END AS model,
                     (400 + floor(random() * 1100))::int AS ain, (600 + floor(random() * 1600))::int AS aout,
                     (50 + floor(random() * 200))::int AS tin, (20 + floor(random() * 100))::int AS tout,
                     (floor(random() * 400))::int AS cached, g AS k) AS v;

-- Video vision, rarely: 1-5 frames.
INSERT INTO "VideoVisionUsage" ("id", "userId", "voiceSessionId", "framesUsed", "secondsUsed", "periodMonth", "startedAt", "endedAt", "createdAt")
SELECT $$vv-live-$$ || gen_random_uuid(), $$demo-user-$$ || (1 + floor(random() * 40))::int, $$vsess-live-$$ || gen_random_uuid(),
       (1 + floor(random() * 5))::int, (30 + floor(random() * 200))::int, to_char(now() AT TIME ZONE $$UTC$$, $$YYYY-MM$$),
       now() AT TIME ZONE $$UTC$$ - interval $$5 minutes$$, now() AT TIME ZONE $$UTC$$, now() AT TIME ZONE $$UTC$$
FROM generate_series(1, CASE WHEN random() < 0.03 THEN 1 ELSE 0 END) AS g;

-- External API calls: Azure OpenAI chat (tokens), embeddings and TTS, Google Drive, now and
-- then a Brave search; about 3 % fail (metadata success=false).
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
SELECT $$te-live-$$ || gen_random_uuid(), $$ext_live_$$ || gen_random_uuid(),
       now() AT TIME ZONE $$UTC$$ - random() * interval $$5 seconds$$, $$external_api$$, c.action, c.label, c.value,
       json_build_object($$success$$, random() > 0.03, $$latencyMs$$, (50 + floor(random() * 900))::int)::text, $$system$$
FROM (VALUES ($$chat_completion$$, $$azure_openai$$, 3, 3000, 9000),
             ($$embedding$$, $$azure_openai$$, 1, 2000, 8000),
             ($$tts$$, $$azure_openai$$, 1, 1, 1),
             ($$files_list$$, $$google_drive$$, 2, 1, 1),
             ($$web_search$$, $$brave_search$$, 0, 1, 1)) AS kinds(action, label, upto, vmin, vmax),
     LATERAL generate_series(1, CASE WHEN kinds.upto = 0 THEN CASE WHEN random() < 0.05 THEN 1 ELSE 0 END
                                     ELSE floor(random() * (kinds.upto + 1))::int END) AS g,
     LATERAL (SELECT kinds.action, kinds.label, (kinds.vmin + floor(random() * (kinds.vmax - kinds.vmin + 1)))::double precision AS value, g AS k) AS c;

-- A failing call logged as an incident category (external_api with an error action), rarely.
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "sessionId")
SELECT $$te-live-err-$$ || gen_random_uuid(), $$ext_live_err_$$ || gen_random_uuid(), now() AT TIME ZONE $$UTC$$,
       $$external_api$$, $$chat_completion_error$$, $$azure_openai$$, 1, $$system$$
FROM generate_series(1, CASE WHEN random() < 0.02 THEN 1 ELSE 0 END) AS g;

-- The odd safety incident (about one every five minutes), unresolved; and now and then an
-- admin resolves the oldest open one.
INSERT INTO "SafetyEvent" ("id", "userId", "type", "severity", "timestamp", "category", "contentSnippet", "locale")
SELECT $$se-live-$$ || gen_random_uuid(), $$demo-user-$$ || (1 + floor(random() * 40))::int, s.type, s.severity,
       now() AT TIME ZONE $$UTC$$, $$content$$, $$demo snippet: personal text that must never reach a dashboard$$, $$it$$
FROM generate_series(1, CASE WHEN random() < 0.03 THEN 1 ELSE 0 END) AS g,
     LATERAL (SELECT (ARRAY[$$input_blocked$$, $$input_warned$$, $$output_sanitized$$, $$jailbreak_attempt$$, $$pii_detected$$, $$profanity_detected$$])[1 + floor(random() * 6)::int] AS type,
                     (ARRAY[$$info$$, $$info$$, $$warning$$, $$warning$$, $$alert$$])[1 + floor(random() * 5)::int] AS severity, g AS k) AS s;
UPDATE "SafetyEvent" SET "resolvedAt" = now() AT TIME ZONE $$UTC$$, "resolvedBy" = $$admin$$, "resolution" = $$demo: reviewed$$
WHERE "id" = (SELECT "id" FROM "SafetyEvent" WHERE "resolvedAt" IS NULL AND severity <> $$critical$$
              ORDER BY "timestamp" LIMIT 1)
  AND random() < 0.03;
COMMIT;'

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
log "inserting usage every ${interval}s; Azure OpenAI burst to ${breach_ratio} x its budget after ${breach_after}s"
while true; do
  tick=$((tick + 1))
  if ! psql_run -c "$TRAFFIC_SQL" >/dev/null; then
    log "tick $tick: insert failed (database not reachable?); retrying in ${interval}s"
    sleep "$interval"
    continue
  fi
  mtd="$(psql_run -c "$MTD_SQL" || echo "")"
  if [[ -z "$mtd" ]]; then
    log "tick $tick: cannot read the month-to-date spend; retrying in ${interval}s"
    sleep "$interval"
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
  sleep "$interval"
done
