-- Least-privilege role for the opswatch exporter and Grafana's PostgreSQL datasource.
--
--   psql "$DIRECT_URL" -v reader_password="$(cat /run/secrets/opswatch_reader)" -f exporter/sql/role.sql
--
-- Run as the database owner (on Supabase: the postgres role, on the direct port 5432).
-- The password comes from a psql variable, never from this file.
--
-- Row-level security: the source app enables RLS on every table and gives no policy to
-- other roles, so a plain SELECT grant would read zero rows, silently. Instead of BYPASSRLS
-- (superuser-only on Supabase, and a blanket exemption), this script adds one SELECT-only
-- policy per table for this role alone. Column grants on "SafetyEvent" keep the free-text
-- columns (contentSnippet, resolution, metadata) and user ids out of reach entirely.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opswatch_reader') THEN
    CREATE ROLE opswatch_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END
$$;

\if :{?reader_password}
ALTER ROLE opswatch_reader PASSWORD :'reader_password';
\endif

-- Writes are refused by the server even if a query tried; the exporter asks for READ ONLY too.
ALTER ROLE opswatch_reader SET default_transaction_read_only = on;
ALTER ROLE opswatch_reader SET statement_timeout = '15s';
-- The exporter pools at most 2 connections; Grafana needs a couple more.
ALTER ROLE opswatch_reader CONNECTION LIMIT 6;

SELECT format('GRANT CONNECT ON DATABASE %I TO opswatch_reader', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO opswatch_reader;

GRANT SELECT ("costEur", "tokensIn", "tokensOut", "voiceMinutes", "isTestData", "createdAt") ON session_metrics TO opswatch_reader;
GRANT SELECT (model, "audioInputTokens", "audioOutputTokens", "textInputTokens", "textOutputTokens", "cachedInputTokens",
              "costEur", "isTestData", "createdAt") ON voice_usage_events TO opswatch_reader;
GRANT SELECT ("framesUsed", "createdAt") ON "VideoVisionUsage" TO opswatch_reader;
GRANT SELECT (id, "timestamp", category, action, label, value, metadata, "isTestData") ON "TelemetryEvent" TO opswatch_reader;
GRANT SELECT (id, type, severity, "timestamp", "resolvedAt", category) ON "SafetyEvent" TO opswatch_reader;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['session_metrics', 'voice_usage_events', 'VideoVisionUsage', 'TelemetryEvent', 'SafetyEvent']
  LOOP
    IF NOT EXISTS (SELECT FROM pg_policies WHERE tablename = t AND policyname = 'opswatch_reader_select') THEN
      EXECUTE format('CREATE POLICY opswatch_reader_select ON %I FOR SELECT TO opswatch_reader USING (true)', t);
    END IF;
  END LOOP;
END
$$;
