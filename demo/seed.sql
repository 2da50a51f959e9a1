-- A realistic month of usage for the demo and the tests, relative to now() (UTC), so that
-- "this month" always has data. Deterministic: setseed() fixes every random() below.
--
-- Shape (per day): ~120 text sessions (~0.8 EUR), ~24 voice turns on two realtime models
-- (~1.2 EUR), a few video-vision sessions (~0.5 EUR). Azure OpenAI's forecast lands near 93 %
-- of its default 79 EUR budget: a provider near its budget. Test-data rows (isTestData) that
-- would blow the budget if counted are mixed in; the exporter must ignore them.
-- External API calls (TelemetryEvent, category external_api) and safety incidents fill the
-- quota and incident panels.
BEGIN;
SELECT setseed(0.42);

INSERT INTO "User" ("id")
SELECT 'demo-user-' || g FROM generate_series(1, 40) AS g
ON CONFLICT DO NOTHING;

-- Hours of the month so far (at least one, so that the 1st of a month has data too).
CREATE TEMP TABLE demo_hours AS
SELECT h AS hour
FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),
                     GREATEST(now() AT TIME ZONE 'UTC', date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 hour'),
                     interval '1 hour') AS h
WHERE h <= now() AT TIME ZONE 'UTC';

-- Text sessions: five an hour, cost as the app computes it (tokens x 0.002 / 1000).
INSERT INTO session_metrics ("id", "sessionId", "userId", "outcome", "turnCount", "tokensIn", "tokensOut",
                             "costEur", "isTestData", "createdAt", "updatedAt")
SELECT 'sm-' || md5(hour::text || n), 'sess-' || md5(hour::text || n),
       'demo-user-' || (1 + floor(random() * 40))::int,
       (ARRAY['success', 'success', 'success', 'dropped', 'abandoned'])[1 + floor(random() * 5)::int],
       2 + floor(random() * 12)::int, t.tin, t.tout,
       round(((t.tin + t.tout) * 0.002 / 1000)::numeric, 3)::double precision,
       false, hour + random() * interval '59 minutes', hour + interval '1 hour'
FROM demo_hours, generate_series(1, 5) AS n,
     LATERAL (SELECT (800 + floor(random() * 2400))::int AS tin, (300 + floor(random() * 1200))::int AS tout, n AS k) AS t;

-- Test sessions: expensive, and must never be counted.
INSERT INTO session_metrics ("id", "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "isTestData", "createdAt", "updatedAt")
SELECT 'sm-test-' || g, 'sess-test-' || g, 'demo-user-1', 500000, 500000, 50, true,
       date_trunc('month', now() AT TIME ZONE 'UTC') + (g || ' minutes')::interval, now() AT TIME ZONE 'UTC'
FROM generate_series(1, 10) AS g;

-- A half-migrated row with no cost: the exporter skips it and counts it in opswatch_rows_rejected_total.
INSERT INTO session_metrics ("id", "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "createdAt", "updatedAt")
VALUES ('sm-broken-1', 'sess-broken-1', 'demo-user-2', 100, 100, NULL,
        date_trunc('month', now() AT TIME ZONE 'UTC') + interval '30 minutes', now() AT TIME ZONE 'UTC');

-- Voice turns: about one an hour, per-token cost in EUR as voice-pricing.ts computes it
-- (USD per 1M tokens / 1.08).
INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioInputTokens", "audioOutputTokens",
                                "textInputTokens", "textOutputTokens", "cachedInputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT 've-' || md5(hour::text || n), 'demo-user-' || (1 + floor(random() * 40))::int, 'vsess-' || md5(hour::text),
       v.model, v.ain, v.aout, v.tin, v.tout, v.cached,
       round(((CASE WHEN v.model = 'gpt-realtime' THEN (v.ain * 32 + v.aout * 64 + v.tin * 4 + v.tout * 16 + v.cached * 0.4)
                    ELSE (v.ain * 10 + v.aout * 20 + v.tin * 0.6 + v.tout * 2.4 + v.cached * 0.06) END) / 1e6 / 1.08)::numeric, 6)::double precision,
       to_char(hour, 'YYYY-MM-DD'), to_char(hour, 'YYYY-MM'), false, hour + random() * interval '59 minutes'
FROM demo_hours, generate_series(1, 1) AS n,
     LATERAL (SELECT CASE WHEN random() < 0.15 THEN 'gpt-realtime' ELSE 'gpt-realtime-mini' END AS model,
                     (400 + floor(random() * 1100))::int AS ain, (600 + floor(random() * 1600))::int AS aout,
                     (50 + floor(random() * 200))::int AS tin, (20 + floor(random() * 100))::int AS tout,
                     (floor(random() * 400))::int AS cached, n AS k) AS v;

INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioOutputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT 've-test-' || g, 'demo-user-1', 'vsess-test', 'gpt-realtime', 9000000, 400, to_char(now(), 'YYYY-MM-DD'),
       to_char(now(), 'YYYY-MM'), true, date_trunc('month', now() AT TIME ZONE 'UTC') + (g || ' minutes')::interval
FROM generate_series(1, 5) AS g;

-- Video vision: a session every ~10 hours, 1-5 frames at 0.067 EUR.
INSERT INTO "VideoVisionUsage" ("id", "userId", "voiceSessionId", "framesUsed", "secondsUsed", "periodMonth", "startedAt", "endedAt", "createdAt")
SELECT 'vv-' || md5(hour::text), 'demo-user-' || (1 + floor(random() * 40))::int, 'vsess-' || md5(hour::text),
       (1 + floor(random() * 5))::int, (30 + floor(random() * 200))::int, to_char(hour, 'YYYY-MM'),
       hour, hour + interval '5 minutes', hour + interval '5 minutes'
FROM demo_hours WHERE random() < 0.1;

-- External API calls: the last hour minute by minute (quota windows of 1m and 24h) and a
-- month of Brave searches. value = tokens, or 1 for a request.
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
SELECT 'te-' || md5(m::text || k), 'ext_' || (extract(epoch FROM m) * 1000)::bigint || '_' || substr(md5(m::text || k), 1, 7),
       m + random() * interval '50 seconds', 'external_api', c.action, c.label, c.value,
       json_build_object('success', random() > 0.03, 'latencyMs', (50 + floor(random() * 900))::int)::text, 'system'
FROM generate_series(now() AT TIME ZONE 'UTC' - interval '60 minutes', now() AT TIME ZONE 'UTC', interval '1 minute') AS m,
     generate_series(1, 4) AS k,
     LATERAL (SELECT (ARRAY['chat_completion', 'chat_completion', 'embedding', 'tts'])[k] AS action,
                     (ARRAY['azure_openai', 'azure_openai', 'azure_openai', 'azure_openai'])[k] AS label,
                     (ARRAY[9000 + floor(random() * 9000), 8000 + floor(random() * 8000), 20000 + floor(random() * 20000), 1])[k] AS value) AS c;

INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
SELECT 'te-drive-' || md5(m::text), 'ext_drive_' || md5(m::text), m, 'external_api', 'files_list', 'google_drive', 1,
       '{"success":true,"latencyMs":120}', 'system'
FROM generate_series(now() AT TIME ZONE 'UTC' - interval '23 hours', now() AT TIME ZONE 'UTC', interval '7 minutes') AS m;

INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
SELECT 'te-brave-' || md5(hour::text), 'ext_brave_' || md5(hour::text), hour + interval '10 minutes', 'external_api',
       'web_search', 'brave_search', 1, '{"success":true,"latencyMs":300}', 'system'
FROM demo_hours WHERE random() < 0.9;

-- Incidents: SafetyEvent over the last week, most resolved; a few unresolved, one critical today.
INSERT INTO "SafetyEvent" ("id", "userId", "type", "severity", "timestamp", "resolvedAt", "resolvedBy", "category", "contentSnippet", "locale")
SELECT 'se-' || md5(t::text), 'demo-user-' || (1 + floor(random() * 40))::int, s.type, s.severity, t,
       CASE WHEN random() < 0.8 THEN t + interval '2 hours' END, CASE WHEN random() < 0.8 THEN 'admin' END,
       'content', 'demo snippet: personal text that must never reach a dashboard', 'it'
FROM generate_series(now() AT TIME ZONE 'UTC' - interval '7 days', now() AT TIME ZONE 'UTC' - interval '10 minutes', interval '2 hours') AS t,
     LATERAL (SELECT (ARRAY['input_blocked', 'input_warned', 'output_sanitized', 'jailbreak_attempt', 'pii_detected', 'profanity_detected'])[1 + floor(random() * 6)::int] AS type,
                     (ARRAY['info', 'info', 'warning', 'warning', 'alert'])[1 + floor(random() * 5)::int] AS severity, t AS k) AS s;

INSERT INTO "SafetyEvent" ("id", "userId", "type", "severity", "timestamp", "category")
VALUES ('se-crisis-demo', 'demo-user-7', 'escalation_crisis_detected', 'critical', now() AT TIME ZONE 'UTC' - interval '3 hours', 'crisis');

-- The plan's TelemetryEvent incident categories, which the source app rarely writes.
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "sessionId")
VALUES ('te-cb-1', 'demo-cb-1', now() AT TIME ZONE 'UTC' - interval '5 hours', 'circuit_breaker', 'opened', 'azure_openai', NULL, 'system'),
       ('te-si-1', 'demo-si-1', now() AT TIME ZONE 'UTC' - interval '6 hours', 'safety_incident', 'crisis_escalated', NULL, NULL, 'system'),
       ('te-ext-err-1', 'demo-ext-err-1', now() AT TIME ZONE 'UTC' - interval '2 hours', 'external_api', 'chat_completion_error', 'azure_openai', 1, 'system');

DROP TABLE demo_hours;
COMMIT;
ANALYZE;
