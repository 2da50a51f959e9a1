-- Least-privilege role for the opswatch exporter (Grafana has its own: grafana-role.sql).
--
--   psql "$DIRECT_URL" -v reader_password="$(cat /run/secrets/opswatch_reader)" -f exporter/sql/role.sql
--   [-v other_databases=postgres,analytics]   databases of the cluster the role must not reach
--
-- Run as the database owner (on Supabase: the postgres role, on the direct port 5432). The
-- password comes from a psql variable, never from this file. Safe to run again: it replaces the
-- grants and policies it made before.
--
-- Row-level security: the source app enables RLS on every table and gives no policy to other
-- roles, so a plain SELECT grant would read zero rows, silently. Instead of BYPASSRLS
-- (superuser-only on Supabase, and a blanket exemption), this script adds one SELECT-only
-- policy per table for this role alone. Column grants keep the free-text columns of
-- "SafetyEvent" (contentSnippet, resolution, metadata) and every user id out of reach.
-- What the server enforces beyond that, and what it cannot: harden-role.sql.

SET client_min_messages = warning;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opswatch_reader') THEN
    CREATE ROLE opswatch_reader LOGIN;
  END IF;
END
$$;

\if :{?reader_password}
ALTER ROLE opswatch_reader PASSWORD :'reader_password';
\endif

-- The exporter pools at most 2 connections; 4 leaves room for a restart's overlap.
\set role_name opswatch_reader
\set connection_limit 4
\ir harden-role.sql

GRANT USAGE ON SCHEMA public TO opswatch_reader;
REVOKE ALL ON session_metrics, voice_usage_events, "VideoVisionUsage", "TelemetryEvent", "SafetyEvent" FROM opswatch_reader;
GRANT SELECT ("costEur", "tokensIn", "tokensOut", "voiceMinutes", "isTestData", "createdAt") ON session_metrics TO opswatch_reader;
GRANT SELECT (model, "audioInputTokens", "audioOutputTokens", "textInputTokens", "textOutputTokens", "cachedInputTokens",
              "costEur", "isTestData", "createdAt") ON voice_usage_events TO opswatch_reader;
GRANT SELECT ("framesUsed", "createdAt") ON "VideoVisionUsage" TO opswatch_reader;
-- label, action, value and metadata: the quota source reads external API calls from them.
GRANT SELECT (id, "timestamp", category, action, label, value, metadata, "isTestData") ON "TelemetryEvent" TO opswatch_reader;
GRANT SELECT (id, type, severity, "timestamp", "resolvedAt", category) ON "SafetyEvent" TO opswatch_reader;

DROP POLICY IF EXISTS opswatch_reader_select ON session_metrics;
DROP POLICY IF EXISTS opswatch_reader_select ON voice_usage_events;
DROP POLICY IF EXISTS opswatch_reader_select ON "VideoVisionUsage";
DROP POLICY IF EXISTS opswatch_reader_select ON "TelemetryEvent";
DROP POLICY IF EXISTS opswatch_reader_select ON "SafetyEvent";
CREATE POLICY opswatch_reader_select ON session_metrics FOR SELECT TO opswatch_reader USING (true);
CREATE POLICY opswatch_reader_select ON voice_usage_events FOR SELECT TO opswatch_reader USING (true);
CREATE POLICY opswatch_reader_select ON "VideoVisionUsage" FOR SELECT TO opswatch_reader USING (true);
CREATE POLICY opswatch_reader_select ON "TelemetryEvent" FOR SELECT TO opswatch_reader USING (true);
CREATE POLICY opswatch_reader_select ON "SafetyEvent" FOR SELECT TO opswatch_reader USING (true);
