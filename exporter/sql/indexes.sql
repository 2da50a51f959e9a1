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

-- Quotas and telemetry incidents: WHERE category = ... AND "timestamp" in a window. The INCLUDE
-- columns are every other column those queries read, so they are index-only scans (once VACUUM has
-- marked the pages all-visible): a month's quota read at 1M rows touched 2.7k buffers instead of 13.6k.
-- An index of this name made by an earlier version of this file, without them, is replaced in place:
-- the new one is built beside it under another name, then takes its name.
SELECT EXISTS (SELECT FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'TelemetryEvent_category_timestamp_idx' AND i.indnatts = i.indnkeyatts)
       AS telemetry_index_without_include \gset
\if :telemetry_index_without_include
DROP INDEX CONCURRENTLY IF EXISTS "TelemetryEvent_category_timestamp_covering";
CREATE INDEX CONCURRENTLY "TelemetryEvent_category_timestamp_covering"
  ON "TelemetryEvent" (category, "timestamp") INCLUDE (label, action, value, "isTestData");
DROP INDEX CONCURRENTLY "TelemetryEvent_category_timestamp_idx";
ALTER INDEX "TelemetryEvent_category_timestamp_covering" RENAME TO "TelemetryEvent_category_timestamp_idx";
\endif
CREATE INDEX CONCURRENTLY IF NOT EXISTS "TelemetryEvent_category_timestamp_idx"
  ON "TelemetryEvent" (category, "timestamp") INCLUDE (label, action, value, "isTestData");

-- Unresolved incidents: a small partial index instead of scanning every resolved row.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "SafetyEvent_unresolved_timestamp_idx"
  ON "SafetyEvent" ("timestamp") WHERE "resolvedAt" IS NULL;
