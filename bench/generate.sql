-- Synthetic data for bench/run.sh: :sessions session_metrics rows spread evenly over the
-- last :days days (UTC), ending now, in insertion (time) order as an append-only app writes
-- them, and proportional rows in the other tables the exporter reads:
--
--   voice_usage_events  sessions / 5      VideoVisionUsage  sessions / 50
--   "TelemetryEvent"    sessions x 1      "SafetyEvent"     sessions / 100
--
-- Shapes follow demo/seed.sql: about 1 % test data, a few rows the exporter must reject
-- (NULL cost), half of TelemetryEvent is external_api calls (azure_openai 80 %, google_drive
-- 10 %, brave_search 10 %; 3 % failed), a few circuit_breaker / safety_incident events,
-- SafetyEvent with 1 in 7 unresolved.
--
--   psql -v step=prepare -v sessions=1000000 -v days=60 -f bench/generate.sql
--   psql -v step=sessions -f bench/generate.sql & psql -v step=events -f bench/generate.sql & wait
--   psql -v step=done -f bench/generate.sql
--
-- Set-based (generate_series) and fast: indexes and primary keys are dropped for the load and
-- rebuilt afterwards, FK triggers are skipped (session_replication_role = replica), the two
-- halves (sessions: session_metrics, voice, video; events: TelemetryEvent, SafetyEvent) can
-- load in parallel, and each table is vacuumed and analyzed at the end as autovacuum would.
-- Runs on the demo schema (demo/schema.sql) and replaces what its tables hold. Deterministic
-- but for the clock: rows are placed relative to now().
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET session_replication_role = replica;
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;
SELECT setseed(0.42) \gset

\if :{?step}
\else
\echo 'set -v step=prepare|sessions|events|done'
\quit
\endif

SELECT :'step' = 'prepare' AS is_prepare, :'step' = 'sessions' AS is_sessions,
       :'step' = 'events' AS is_events, :'step' = 'done' AS is_done \gset

\if :is_prepare
-- TelemetryEvent and SafetyEvent run :ahead minutes into the future (default 60), so that the
-- quota and incident windows, which end at now(), keep filling during the benchmark as if the
-- app went on writing. Their span is :days days as well.
\if :{?ahead}
\else
\set ahead 60
\endif
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.settings AS
SELECT :sessions::bigint AS sessions,
       now() AT TIME ZONE 'UTC' - make_interval(days => :days) AS t_start,
       now() AT TIME ZONE 'UTC' AS t_end,
       now() AT TIME ZONE 'UTC' + make_interval(mins => :ahead) - make_interval(days => :days) AS e_start,
       now() AT TIME ZONE 'UTC' + make_interval(mins => :ahead) AS e_end;

-- The DDL of every index and primary key of the tables: dropped now, rebuilt after the load.
CREATE TABLE bench.ddl AS
SELECT c.conrelid::regclass::text AS tbl,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS create_sql,
       format('ALTER TABLE %s DROP CONSTRAINT %I CASCADE', c.conrelid::regclass, c.conname) AS drop_sql, 1 AS pass
FROM pg_constraint c
WHERE c.contype IN ('p', 'u') AND c.conrelid::regclass::text IN
      ('session_metrics', 'voice_usage_events', '"VideoVisionUsage"', '"TelemetryEvent"', '"SafetyEvent"')
UNION ALL
SELECT i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass), 2
FROM pg_index i
WHERE i.indrelid::regclass::text IN
      ('session_metrics', 'voice_usage_events', '"VideoVisionUsage"', '"TelemetryEvent"', '"SafetyEvent"')
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid);

SELECT drop_sql FROM bench.ddl ORDER BY pass DESC \gexec
TRUNCATE session_metrics, voice_usage_events, "VideoVisionUsage", "TelemetryEvent", "SafetyEvent";
INSERT INTO "User" ("id")
SELECT 'bench-user-' || g FROM generate_series(0, 999) AS g
ON CONFLICT DO NOTHING;
\endif

\if :is_sessions
SELECT sessions AS n FROM bench.settings \gset
INSERT INTO session_metrics ("id", "sessionId", "userId", "outcome", "turnCount", "tokensIn", "tokensOut",
                             "costEur", "isTestData", "createdAt", "updatedAt")
SELECT 'sm-' || g, 'sess-' || g, 'bench-user-' || (g % 1000),
       (ARRAY['success', 'success', 'success', 'dropped', 'abandoned'])[1 + g % 5],
       2 + g % 12, tin, tout,
       CASE WHEN g % 100003 = 0 THEN NULL ELSE round(((tin + tout) * 0.002 / 1000)::numeric, 3)::double precision END,
       g % 100 = 0, ts, ts + interval '10 minutes'
FROM (SELECT g, 800 + (random() * 2400)::int AS tin, 300 + (random() * 1200)::int AS tout,
             c.t_start + ((g - random()) / :n) * (c.t_end - c.t_start) AS ts
      FROM generate_series(1, :n) AS g, bench.settings AS c) AS s;

INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioInputTokens", "audioOutputTokens",
                                "textInputTokens", "textOutputTokens", "cachedInputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT 've-' || g, 'bench-user-' || (g % 1000), 'sess-' || (g * 5), model, ain, aout, tin, tout, cached,
       round(((CASE WHEN model = 'gpt-realtime' THEN ain * 32 + aout * 64 + tin * 4 + tout * 16 + cached * 0.4
                    ELSE ain * 10 + aout * 20 + tin * 0.6 + tout * 2.4 + cached * 0.06 END) / 1e6 / 1.08)::numeric, 6)::double precision,
       to_char(ts, 'YYYY-MM-DD'), to_char(ts, 'YYYY-MM'), g % 100 = 0, ts
FROM (SELECT g, CASE WHEN g % 20 < 3 THEN 'gpt-realtime' ELSE 'gpt-realtime-mini' END AS model,
             400 + (random() * 1100)::int AS ain, 600 + (random() * 1600)::int AS aout,
             50 + (random() * 200)::int AS tin, 20 + (random() * 100)::int AS tout, (random() * 400)::int AS cached,
             c.t_start + ((g - random()) / (:n / 5)) * (c.t_end - c.t_start) AS ts
      FROM generate_series(1, :n / 5) AS g, bench.settings AS c) AS v;

INSERT INTO "VideoVisionUsage" ("id", "userId", "voiceSessionId", "framesUsed", "secondsUsed", "periodMonth",
                                "startedAt", "endedAt", "createdAt")
SELECT 'vv-' || g, 'bench-user-' || (g % 1000), 'sess-' || (g * 50), 1 + g % 5, 30 + g % 200,
       to_char(ts, 'YYYY-MM'), ts - interval '5 minutes', ts, ts
FROM (SELECT g, c.t_start + ((g - random()) / (:n / 50)) * (c.t_end - c.t_start) AS ts
      FROM generate_series(1, :n / 50) AS g, bench.settings AS c) AS v;

SELECT create_sql FROM bench.ddl
WHERE tbl IN ('session_metrics', 'voice_usage_events', '"VideoVisionUsage"') ORDER BY pass \gexec
RESET session_replication_role;
VACUUM (ANALYZE) session_metrics, voice_usage_events, "VideoVisionUsage", "User";
\endif

\if :is_events
SELECT sessions AS n FROM bench.settings \gset
-- Event timestamps are whole minutes (date_trunc): every window that ends at now() (1m, 15m,
-- 24h, 30d back) then holds the same rows for a whole minute, so bench.py can recompute what
-- any exporter should have served at a given minute and compare exactly (bench/README.md).

-- g % 100 < 50: external API calls; g / 3 picks the provider and g / 30 the action, so that
-- every minute mixes them.
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata",
                              "sessionId", "userId", "isTestData", "createdAt")
SELECT 'te-' || g, 'ev-' || g, ts, category, action, label, value,
       CASE WHEN category = 'external_api'
            THEN '{"success":' || (g % 97 >= 3) || ',"latencyMs":' || (50 + g % 900) || '}' END,
       'sess-' || (g % :n), 'bench-user-' || (g % 1000), g % 100 = 1, ts
FROM (SELECT g, ts,
             CASE WHEN g % 100000 = 7 THEN 'circuit_breaker'
                  WHEN g % 100000 = 13 THEN 'safety_incident'
                  WHEN g % 100 < 50 THEN 'external_api'
                  ELSE (ARRAY['navigation', 'ui', 'session', 'voice'])[1 + g % 4] END AS category,
             CASE WHEN g % 100000 = 7 THEN 'opened'
                  WHEN g % 100000 = 13 THEN 'crisis_escalated'
                  WHEN g % 100 >= 50 THEN (ARRAY['view', 'click', 'start', 'end'])[1 + g % 4]
                  WHEN g % 1000 = 17 THEN 'chat_completion_error'
                  WHEN (g / 3) % 10 = 8 THEN 'files_list'
                  WHEN (g / 3) % 10 = 9 THEN 'web_search'
                  ELSE (ARRAY['chat_completion', 'chat_completion', 'chat_completion', 'embedding', 'tts'])[1 + (g / 30) % 5] END AS action,
             CASE WHEN g % 100000 IN (7, 13) THEN 'azure_openai'
                  WHEN g % 100 >= 50 THEN NULL
                  WHEN (g / 3) % 10 = 8 THEN 'google_drive'
                  WHEN (g / 3) % 10 = 9 THEN 'brave_search'
                  ELSE 'azure_openai' END AS label,
             CASE WHEN g % 100 >= 50 OR (g / 3) % 10 >= 8 THEN 1
                  ELSE 500 + (random() * 9000)::int END::double precision AS value
      FROM (SELECT g, date_trunc('minute', c.e_start + ((g - random()) / :n) * (c.e_end - c.e_start)) AS ts
            FROM generate_series(1, :n) AS g, bench.settings AS c) AS t) AS e;

INSERT INTO "SafetyEvent" ("id", "userId", "type", "severity", "timestamp", "resolvedAt", "resolvedBy",
                           "category", "sessionId", "contentSnippet", "locale")
SELECT 'se-' || g, 'bench-user-' || (g % 1000),
       (ARRAY['input_blocked', 'input_warned', 'output_sanitized', 'jailbreak_attempt', 'pii_detected', 'profanity_detected'])[1 + g % 6],
       (ARRAY['info', 'info', 'info', 'info', 'info', 'info', 'info', 'info', 'info',
              'warning', 'warning', 'warning', 'warning', 'warning', 'warning', 'warning',
              'alert', 'alert', 'alert', 'critical'])[1 + g % 20],
       ts, CASE WHEN g % 7 <> 0 THEN ts + interval '2 hours' END, CASE WHEN g % 7 <> 0 THEN 'admin' END,
       'content', 'sess-' || (g * 100), 'bench snippet', 'it'
FROM (SELECT g, date_trunc('minute', c.e_start + ((g - random()) / (:n / 100)) * (c.e_end - c.e_start)) AS ts
      FROM generate_series(1, :n / 100) AS g, bench.settings AS c) AS s;

SELECT create_sql FROM bench.ddl WHERE tbl IN ('"TelemetryEvent"', '"SafetyEvent"') ORDER BY pass \gexec
RESET session_replication_role;
VACUUM (ANALYZE) "TelemetryEvent", "SafetyEvent";
\endif

\if :is_done
DROP SCHEMA bench CASCADE;
\endif
