-- Indexes the exporter's default queries want. The source app's migrations never created
-- session_metrics("createdAt") (it is only in the Prisma schema), so the month-to-date sum
-- scans the whole table without it.
--
--   psql "$DIRECT_URL" -f exporter/sql/indexes.sql
--
-- CONCURRENTLY: no write lock on the app's tables while building; each statement must run
-- outside a transaction block, so run this file with psql as is (not with -1).

-- Month-to-date text cost: WHERE "createdAt" in the period AND NOT "isTestData".
CREATE INDEX CONCURRENTLY IF NOT EXISTS "session_metrics_createdAt_idx"
  ON session_metrics ("createdAt") INCLUDE ("costEur", "tokensIn", "tokensOut", "isTestData");

-- Quotas and telemetry incidents: WHERE category = ... AND "timestamp" in a window.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "TelemetryEvent_category_timestamp_idx"
  ON "TelemetryEvent" (category, "timestamp");

-- Unresolved incidents: a small partial index instead of scanning every resolved row.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "SafetyEvent_unresolved_timestamp_idx"
  ON "SafetyEvent" ("timestamp") WHERE "resolvedAt" IS NULL;
