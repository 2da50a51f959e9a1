-- The exporter's own SQL, for the peer exporters of bench/run.sh: the same cost, quota and
-- incident queries that opswatch runs in one refresh of each source, with the parameters that
-- opswatch binds written in as SQL (its defaults: UTC billing month, max-row-cost-eur 1000,
-- quota windows 1m / 24h / month, error window 15m, incident lookback 24h, unresolved window
-- 30d). Only the output differs where a peer needs it: NULL labels as '' and a timestamp as
-- epoch seconds. run.sh turns this file into both peers' configs; psql runs it as is.
--
-- Each block: "-- metric:" the metric (prefix), "-- labels:" and "-- values:" its columns,
-- "-- discard:" columns that are always NULL (not exported), "-- from:" where opswatch keeps
-- the query; the SQL follows and ends with a line ending in ';'.
--
-- Not mirrored: RecentIncidentQuery, which feeds the admin API's /api/incidents/recent (the
-- peers have no such endpoint); bench/RESULTS.md gives opswatch's DB time with and without it.

-- metric: opswatch_cost_text_sessions
-- labels: model
-- values: cost_eur tokens_input tokens_output rejected_null_value rejected_negative_value rejected_not_finite rejected_absurd_value
-- discard: tokens_cached_input
-- from: reference.conf opswatch.cost-queries.text_sessions
SELECT 'gpt-5-mini' AS model,
       COALESCE(SUM("costEur") FILTER (WHERE valid), 0) AS cost_eur,
       COALESCE(SUM("tokensIn"::bigint) FILTER (WHERE valid), 0) AS tokens_input,
       COALESCE(SUM("tokensOut"::bigint) FILTER (WHERE valid), 0) AS tokens_output,
       NULL::bigint AS tokens_cached_input,
       COUNT(*) FILTER (WHERE "costEur" IS NULL) AS rejected_null_value,
       COUNT(*) FILTER (WHERE "costEur" < 0 OR "tokensIn" < 0 OR "tokensOut" < 0) AS rejected_negative_value,
       COUNT(*) FILTER (WHERE "costEur" IN ('NaN', 'Infinity')) AS rejected_not_finite,
       COUNT(*) FILTER (WHERE "costEur" > 1000 AND "costEur" < 'Infinity') AS rejected_absurd_value
FROM (
  SELECT "costEur", "tokensIn", "tokensOut",
         ("costEur" >= 0 AND "costEur" <= 1000 AND "tokensIn" >= 0 AND "tokensOut" >= 0) AS valid
  FROM session_metrics
  WHERE "createdAt" >= date_trunc('month', now() AT TIME ZONE 'UTC')
    AND "createdAt" < date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'
    AND NOT "isTestData"
) AS rows;

-- metric: opswatch_cost_voice
-- labels: model
-- values: cost_eur tokens_input tokens_output tokens_cached_input rejected_null_value rejected_negative_value rejected_not_finite rejected_absurd_value
-- from: reference.conf opswatch.cost-queries.voice
SELECT model,
       COALESCE(SUM("costEur") FILTER (WHERE valid), 0) AS cost_eur,
       COALESCE(SUM("audioInputTokens"::bigint + "textInputTokens") FILTER (WHERE valid), 0) AS tokens_input,
       COALESCE(SUM("audioOutputTokens"::bigint + "textOutputTokens") FILTER (WHERE valid), 0) AS tokens_output,
       COALESCE(SUM("cachedInputTokens"::bigint) FILTER (WHERE valid), 0) AS tokens_cached_input,
       COUNT(*) FILTER (WHERE "costEur" IS NULL) AS rejected_null_value,
       COUNT(*) FILTER (WHERE "costEur" < 0 OR LEAST("audioInputTokens", "audioOutputTokens", "textInputTokens", "textOutputTokens", "cachedInputTokens") < 0) AS rejected_negative_value,
       COUNT(*) FILTER (WHERE "costEur" IN ('NaN', 'Infinity')) AS rejected_not_finite,
       COUNT(*) FILTER (WHERE "costEur" > 1000 AND "costEur" < 'Infinity') AS rejected_absurd_value
FROM (
  SELECT model, "costEur", "audioInputTokens", "audioOutputTokens", "textInputTokens",
         "textOutputTokens", "cachedInputTokens",
         ("costEur" >= 0 AND "costEur" <= 1000
           AND LEAST("audioInputTokens", "audioOutputTokens", "textInputTokens", "textOutputTokens", "cachedInputTokens") >= 0) AS valid
  FROM voice_usage_events
  WHERE "createdAt" >= date_trunc('month', now() AT TIME ZONE 'UTC')
    AND "createdAt" < date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month'
    AND NOT "isTestData"
) AS rows
GROUP BY model;

-- metric: opswatch_cost_video_frames
-- labels: model
-- values: cost_eur rejected_null_value rejected_negative_value
-- discard: tokens_input tokens_output tokens_cached_input
-- from: reference.conf opswatch.cost-queries.video_frames
SELECT 'video-vision' AS model,
       COALESCE(SUM("framesUsed") FILTER (WHERE "framesUsed" >= 0), 0) * 0.067 AS cost_eur,
       NULL::bigint AS tokens_input, NULL::bigint AS tokens_output, NULL::bigint AS tokens_cached_input,
       COUNT(*) FILTER (WHERE "framesUsed" IS NULL) AS rejected_null_value,
       COUNT(*) FILTER (WHERE "framesUsed" < 0) AS rejected_negative_value
FROM "VideoVisionUsage"
WHERE "createdAt" >= date_trunc('month', now() AT TIME ZONE 'UTC')
  AND "createdAt" < date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month';

-- metric: opswatch_quota_window_1m
-- labels: label action
-- values: calls units negative_values not_finite_values
-- from: quota/WindowUsageQuery.java (source quotas_fast, window 1m)
SELECT COALESCE(label, '') AS label, action,
       COUNT(*) AS calls,
       COALESCE(SUM(CASE WHEN value IS NULL OR value = 0 THEN 1 ELSE value END)
                  FILTER (WHERE value IS NULL OR (value >= 0 AND value < 'Infinity')), 0) AS units,
       COUNT(*) FILTER (WHERE value < 0 AND value > '-Infinity') AS negative_values,
       COUNT(*) FILTER (WHERE value IN ('NaN', 'Infinity', '-Infinity')) AS not_finite_values
FROM "TelemetryEvent"
WHERE category = 'external_api'
  AND "timestamp" >= now() AT TIME ZONE 'UTC' - interval '1 minute' AND "timestamp" < now() AT TIME ZONE 'UTC'
  AND NOT "isTestData"
  AND (label IS NULL OR label = ANY(ARRAY['azure_openai', 'brave_search', 'google_drive']))
GROUP BY label, action;

-- metric: opswatch_quota_window_24h
-- labels: label action
-- values: calls units negative_values not_finite_values
-- from: quota/WindowUsageQuery.java (source quotas, window 24h)
SELECT COALESCE(label, '') AS label, action,
       COUNT(*) AS calls,
       COALESCE(SUM(CASE WHEN value IS NULL OR value = 0 THEN 1 ELSE value END)
                  FILTER (WHERE value IS NULL OR (value >= 0 AND value < 'Infinity')), 0) AS units,
       COUNT(*) FILTER (WHERE value < 0 AND value > '-Infinity') AS negative_values,
       COUNT(*) FILTER (WHERE value IN ('NaN', 'Infinity', '-Infinity')) AS not_finite_values
FROM "TelemetryEvent"
WHERE category = 'external_api'
  AND "timestamp" >= now() AT TIME ZONE 'UTC' - interval '24 hours' AND "timestamp" < now() AT TIME ZONE 'UTC'
  AND NOT "isTestData"
  AND (label IS NULL OR label = ANY(ARRAY['azure_openai', 'brave_search', 'google_drive']))
GROUP BY label, action;

-- metric: opswatch_quota_window_month
-- labels: label action
-- values: calls units negative_values not_finite_values
-- from: quota/WindowUsageQuery.java (source quotas, window month)
SELECT COALESCE(label, '') AS label, action,
       COUNT(*) AS calls,
       COALESCE(SUM(CASE WHEN value IS NULL OR value = 0 THEN 1 ELSE value END)
                  FILTER (WHERE value IS NULL OR (value >= 0 AND value < 'Infinity')), 0) AS units,
       COUNT(*) FILTER (WHERE value < 0 AND value > '-Infinity') AS negative_values,
       COUNT(*) FILTER (WHERE value IN ('NaN', 'Infinity', '-Infinity')) AS not_finite_values
FROM "TelemetryEvent"
WHERE category = 'external_api'
  AND "timestamp" >= date_trunc('month', now() AT TIME ZONE 'UTC') AND "timestamp" < now() AT TIME ZONE 'UTC'
  AND NOT "isTestData"
  AND (label IS NULL OR label = ANY(ARRAY['azure_openai', 'brave_search', 'google_drive']))
GROUP BY label, action;

-- metric: opswatch_external_calls
-- labels: label
-- values: calls failures unusual
-- from: quota/ExternalCallsQuery.java COUNTS (source quotas, error window 15m)
SELECT label,
       COUNT(*) AS calls,
       COUNT(*) FILTER (WHERE success = 'false') AS failures,
       COUNT(*) FILTER (WHERE NOT castable) AS unusual
FROM (
  SELECT label, castable,
         CASE WHEN castable AND metadata IS NOT NULL THEN metadata::jsonb ->> 'success' END AS success
  FROM (
    SELECT label, metadata,
           metadata IS NULL
             OR CASE WHEN octet_length(metadata) <= 8192 AND metadata ~ '^\{("[A-Za-z0-9_]+":("[^"\\\u0001-\u001f]*"|-?(0|[1-9][0-9]*)(\.[0-9]+)?|true|false|null)(,"[A-Za-z0-9_]+":("[^"\\\u0001-\u001f]*"|-?(0|[1-9][0-9]*)(\.[0-9]+)?|true|false|null))*)?\}$' THEN true
                     ELSE metadata ~ '^[ \t\n\r]*\{[ \t\n\r]*("([^"\\\u0001-\u001f]|\\["\\/bfnrt]|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u(?!0000)(?![dD][89a-fA-F])[0-9a-fA-F]{4})*"[ \t\n\r]*:[ \t\n\r]*("([^"\\\u0001-\u001f]|\\["\\/bfnrt]|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u(?!0000)(?![dD][89a-fA-F])[0-9a-fA-F]{4})*"|-?(0|[1-9][0-9]{0,99})(\.[0-9]{1,100})?([eE][-+]?[0-9]{1,4})?|true|false|null)[ \t\n\r]*(,[ \t\n\r]*"([^"\\\u0001-\u001f]|\\["\\/bfnrt]|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u(?!0000)(?![dD][89a-fA-F])[0-9a-fA-F]{4})*"[ \t\n\r]*:[ \t\n\r]*("([^"\\\u0001-\u001f]|\\["\\/bfnrt]|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u(?!0000)(?![dD][89a-fA-F])[0-9a-fA-F]{4})*"|-?(0|[1-9][0-9]{0,99})(\.[0-9]{1,100})?([eE][-+]?[0-9]{1,4})?|true|false|null)[ \t\n\r]*)*)?\}[ \t\n\r]*$' END AS castable
    FROM "TelemetryEvent"
    WHERE category = 'external_api'
      AND "timestamp" >= now() AT TIME ZONE 'UTC' - interval '15 minutes' AND "timestamp" < now() AT TIME ZONE 'UTC'
      AND NOT "isTestData"
      AND label = ANY(ARRAY['azure_openai', 'brave_search', 'google_drive'])
    OFFSET 0
  ) AS matched
) AS calls
GROUP BY label;

-- metric: opswatch_safety_events
-- labels: severity type
-- values: in_lookback unresolved seen
-- from: incident/SafetyEventQuery.java COUNTS (source incidents)
SELECT severity, type, SUM(in_lookback) AS in_lookback, SUM(unresolved) AS unresolved, SUM(seen) AS seen
FROM (
  SELECT severity, type,
         COUNT(*) AS in_lookback,
         COUNT(*) FILTER (WHERE "resolvedAt" IS NULL AND "timestamp" >= now() AT TIME ZONE 'UTC' - interval '30 days') AS unresolved,
         COUNT(*) AS seen
  FROM "SafetyEvent"
  WHERE "timestamp" >= now() AT TIME ZONE 'UTC' - interval '24 hours' AND "timestamp" < now() AT TIME ZONE 'UTC'
  GROUP BY severity, type
  UNION ALL
  SELECT severity, type, 0, COUNT(*), COUNT(*)
  FROM "SafetyEvent"
  WHERE "resolvedAt" IS NULL AND "timestamp" >= now() AT TIME ZONE 'UTC' - interval '30 days'
    AND "timestamp" < now() AT TIME ZONE 'UTC' - interval '24 hours'
  GROUP BY severity, type
) AS parts
GROUP BY severity, type;

-- metric: opswatch_safety_event_newest
-- labels: severity
-- values: newest
-- from: incident/SafetyEventQuery.java NEWEST (source incidents; epoch seconds here)
SELECT s.severity,
       EXTRACT(EPOCH FROM (SELECT MAX(e."timestamp") FROM "SafetyEvent" e
                           WHERE e.severity = s.severity AND e."timestamp" < now() AT TIME ZONE 'UTC')) AS newest
FROM (VALUES ('info'), ('warning'), ('alert'), ('critical')) AS s(severity);

-- metric: opswatch_telemetry_incidents
-- labels: category
-- values: incidents
-- from: incident/TelemetryIncidentQuery.java COUNTS (source incidents)
SELECT t.category, COUNT(*) AS incidents
FROM "TelemetryEvent" t
JOIN unnest(CAST(ARRAY['safety_incident', 'circuit_breaker', 'external_api'] AS text[]),
            CAST(ARRAY[NULL, NULL, 'error|fail'] AS text[])) AS f(category, action_pattern)
  ON t.category = f.category AND (f.action_pattern IS NULL OR lower(t.action) ~ f.action_pattern)
WHERE t."timestamp" >= now() AT TIME ZONE 'UTC' - interval '24 hours' AND t."timestamp" < now() AT TIME ZONE 'UTC' AND NOT t."isTestData"
GROUP BY t.category;
