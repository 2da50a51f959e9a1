-- DEMO ONLY: one tick of the demo's live traffic (demo/compose/demo-traffic.sh runs it every
-- DEMO_INTERVAL_SECONDS), in one transaction: what the app would write. The rates are psql variables,
-- expected rows per tick, set by the script's DEMO_MODE:
--
--   :text_per_tick   text sessions (session_metrics), 0.0058 EUR each on average
--   :voice_per_tick  realtime voice turns (voice_usage_events), priced as voice-pricing.ts does
--   :realtime_share  the share of those on gpt-realtime (0.113 EUR a turn on average) rather than
--                    gpt-realtime-mini (0.035 EUR)
--   :video_per_tick  video-vision sessions of 1-5 frames at 0.067 EUR
--
-- floor(rate + random()) rows: rate's whole part, plus one more with probability its fraction, so the
-- mean is exactly the rate. External API calls (quota panels) and safety incidents cost nothing and run
-- at the same pace in every mode. random() per row: the LATERAL subqueries refer to the outer row
-- (AS k) so that PostgreSQL evaluates them again for each.
-- demo/compose/tests/test_stack.py runs this file against a real PostgreSQL to measure each mode's spend.
BEGIN;
INSERT INTO session_metrics ("id", "sessionId", "userId", "outcome", "turnCount", "tokensIn", "tokensOut",
                             "costEur", "isTestData", "createdAt", "updatedAt")
SELECT 'sm-live-' || gen_random_uuid(), 'sess-live-' || gen_random_uuid(),
       'demo-user-' || (1 + floor(random() * 40))::int,
       (ARRAY['success', 'success', 'success', 'dropped', 'abandoned'])[1 + floor(random() * 5)::int],
       2 + floor(random() * 12)::int, t.tin, t.tout,
       round(((t.tin + t.tout) * 0.002 / 1000)::numeric, 3)::double precision,
       false, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM generate_series(1, floor(:text_per_tick + random())::int) AS g,
     LATERAL (SELECT (800 + floor(random() * 2400))::int AS tin, (300 + floor(random() * 1200))::int AS tout, g AS k) AS t;

INSERT INTO voice_usage_events ("id", "userId", "sessionId", "model", "audioInputTokens", "audioOutputTokens",
                                "textInputTokens", "textOutputTokens", "cachedInputTokens", "costEur",
                                "periodDay", "periodMonth", "isTestData", "createdAt")
SELECT 've-live-' || gen_random_uuid(), 'demo-user-' || (1 + floor(random() * 40))::int, 'vsess-live-' || gen_random_uuid(),
       v.model, v.ain, v.aout, v.tin, v.tout, v.cached,
       round(((CASE WHEN v.model = 'gpt-realtime' THEN (v.ain * 32 + v.aout * 64 + v.tin * 4 + v.tout * 16 + v.cached * 0.4)
                    ELSE (v.ain * 10 + v.aout * 20 + v.tin * 0.6 + v.tout * 2.4 + v.cached * 0.06) END) / 1e6 / 1.08)::numeric, 6)::double precision,
       to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), false, now() AT TIME ZONE 'UTC'
FROM generate_series(1, floor(:voice_per_tick + random())::int) AS g,
     LATERAL (SELECT CASE WHEN random() < :realtime_share THEN 'gpt-realtime' ELSE 'gpt-realtime-mini' END AS model,
                     (400 + floor(random() * 1100))::int AS ain, (600 + floor(random() * 1600))::int AS aout,
                     (50 + floor(random() * 200))::int AS tin, (20 + floor(random() * 100))::int AS tout,
                     (floor(random() * 400))::int AS cached, g AS k) AS v;

INSERT INTO "VideoVisionUsage" ("id", "userId", "voiceSessionId", "framesUsed", "secondsUsed", "periodMonth", "startedAt", "endedAt", "createdAt")
SELECT 'vv-live-' || gen_random_uuid(), 'demo-user-' || (1 + floor(random() * 40))::int, 'vsess-live-' || gen_random_uuid(),
       (1 + floor(random() * 5))::int, (30 + floor(random() * 200))::int, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'),
       now() AT TIME ZONE 'UTC' - interval '5 minutes', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM generate_series(1, floor(:video_per_tick + random())::int) AS g;

-- External API calls: Azure OpenAI chat (tokens), embeddings and TTS, Google Drive, now and
-- then a Brave search; about 3 % fail (metadata success=false).
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
SELECT 'te-live-' || gen_random_uuid(), 'ext_live_' || gen_random_uuid(),
       now() AT TIME ZONE 'UTC' - random() * interval '5 seconds', 'external_api', c.action, c.label, c.value,
       json_build_object('success', random() > 0.03, 'latencyMs', (50 + floor(random() * 900))::int)::text, 'system'
FROM (VALUES ('chat_completion', 'azure_openai', 3, 3000, 9000),
             ('embedding', 'azure_openai', 1, 2000, 8000),
             ('tts', 'azure_openai', 1, 1, 1),
             ('files_list', 'google_drive', 2, 1, 1),
             ('web_search', 'brave_search', 0, 1, 1)) AS kinds(action, label, upto, vmin, vmax),
     LATERAL generate_series(1, CASE WHEN kinds.upto = 0 THEN CASE WHEN random() < 0.05 THEN 1 ELSE 0 END
                                     ELSE floor(random() * (kinds.upto + 1))::int END) AS g,
     LATERAL (SELECT kinds.action, kinds.label, (kinds.vmin + floor(random() * (kinds.vmax - kinds.vmin + 1)))::double precision AS value, g AS k) AS c;

-- A failing call logged as an incident category (external_api with an error action), rarely.
INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "sessionId")
SELECT 'te-live-err-' || gen_random_uuid(), 'ext_live_err_' || gen_random_uuid(), now() AT TIME ZONE 'UTC',
       'external_api', 'chat_completion_error', 'azure_openai', 1, 'system'
FROM generate_series(1, CASE WHEN random() < 0.02 THEN 1 ELSE 0 END) AS g;

-- The odd safety incident (about one every five minutes), unresolved; and now and then an
-- admin resolves the oldest open one.
INSERT INTO "SafetyEvent" ("id", "userId", "type", "severity", "timestamp", "category", "contentSnippet", "locale")
SELECT 'se-live-' || gen_random_uuid(), 'demo-user-' || (1 + floor(random() * 40))::int, s.type, s.severity,
       now() AT TIME ZONE 'UTC', 'content', 'demo snippet: personal text that must never reach a dashboard', 'it'
FROM generate_series(1, CASE WHEN random() < 0.03 THEN 1 ELSE 0 END) AS g,
     LATERAL (SELECT (ARRAY['input_blocked', 'input_warned', 'output_sanitized', 'jailbreak_attempt', 'pii_detected', 'profanity_detected'])[1 + floor(random() * 6)::int] AS type,
                     (ARRAY['info', 'info', 'warning', 'warning', 'alert'])[1 + floor(random() * 5)::int] AS severity, g AS k) AS s;
UPDATE "SafetyEvent" SET "resolvedAt" = now() AT TIME ZONE 'UTC', "resolvedBy" = 'admin', "resolution" = 'demo: reviewed'
WHERE "id" = (SELECT "id" FROM "SafetyEvent" WHERE "resolvedAt" IS NULL AND severity <> 'critical'
              ORDER BY "timestamp" LIMIT 1)
  AND random() < 0.03;
COMMIT;
