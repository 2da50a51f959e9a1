-- Least-privilege role for Grafana's PostgreSQL datasource (the exporter has its own: role.sql).
--
--   psql "$DIRECT_URL" -v grafana_password="$(cat /run/secrets/opswatch_grafana)" -f exporter/sql/grafana-role.sql
--   [-v other_databases=postgres,analytics]   databases of the cluster the role must not reach
--
-- Run as the database owner, like role.sql. Grafana runs whatever SQL a panel, an annotation or
-- an editor's Explore tab sends, so this role is the guard: it reads exactly what the incidents
-- dashboard shows (the recent-incidents table and the S3 annotation), nothing else.
--   "SafetyEvent":    id, type, severity, timestamp, resolvedAt, category (never contentSnippet,
--                     resolution, metadata, locale or any user, session or conversation id);
--   "TelemetryEvent": id, timestamp, category, action, label, isTestData, and only the rows of
--                     the incident categories that the exporter counts by default (its
--                     reference.conf incidents.telemetry-categories): safety_incident,
--                     circuit_breaker, and external_api calls whose action names an error or a
--                     failure. Never metadata, value, eventId or any user or session id.
-- Same hardening as the exporter's role: harden-role.sql.

SET client_min_messages = warning;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opswatch_grafana') THEN
    CREATE ROLE opswatch_grafana LOGIN;
  END IF;
END
$$;

\if :{?grafana_password}
ALTER ROLE opswatch_grafana PASSWORD :'grafana_password';
\endif

-- grafana/provisioning/datasources/opswatch.yml: maxOpenConns 2.
\set role_name opswatch_grafana
\set connection_limit 3
\ir harden-role.sql

GRANT USAGE ON SCHEMA public TO opswatch_grafana;
REVOKE ALL ON "TelemetryEvent", "SafetyEvent" FROM opswatch_grafana;
GRANT SELECT (id, type, severity, "timestamp", "resolvedAt", category) ON "SafetyEvent" TO opswatch_grafana;
GRANT SELECT (id, "timestamp", category, action, label, "isTestData") ON "TelemetryEvent" TO opswatch_grafana;

DROP POLICY IF EXISTS opswatch_grafana_select ON "SafetyEvent";
DROP POLICY IF EXISTS opswatch_grafana_select ON "TelemetryEvent";
CREATE POLICY opswatch_grafana_select ON "SafetyEvent" FOR SELECT TO opswatch_grafana USING (true);
CREATE POLICY opswatch_grafana_select ON "TelemetryEvent" FOR SELECT TO opswatch_grafana
  USING (category IN ('safety_incident', 'circuit_breaker')
         OR (category = 'external_api' AND lower(action) ~ '(error|fail)'));
