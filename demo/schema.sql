-- The source app's tables that opswatch reads, as its Prisma migrations create them
-- (quoted CamelCase tables without @@map, snake_case with @@map; camelCase columns;
-- TIMESTAMP(3) without time zone holding UTC). Only the columns and indexes that
-- the migrations really create are here: the schema drift the source app has
-- (no index on session_metrics("createdAt")) is kept on purpose, and
-- exporter/sql/indexes.sql adds what the exporter's queries want.

CREATE TABLE IF NOT EXISTS "User" (
    "id" TEXT PRIMARY KEY,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS session_metrics (
    "id" TEXT PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "userId" TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "outcome" TEXT NOT NULL DEFAULT 'unknown',
    "turnCount" INTEGER NOT NULL DEFAULT 0,
    "avgTurnLatencyMs" INTEGER,
    "stuckLoopCount" INTEGER NOT NULL DEFAULT 0,
    "tokensIn" INTEGER NOT NULL DEFAULT 0,
    "tokensOut" INTEGER NOT NULL DEFAULT 0,
    "voiceMinutes" DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- Nullable here, unlike Prisma's NOT NULL, so that tests can plant the bad rows a
    -- hand-edited or half-migrated database holds.
    "costEur" DOUBLE PRECISION DEFAULT 0,
    "refusalCount" INTEGER NOT NULL DEFAULT 0,
    "refusalCorrect" INTEGER NOT NULL DEFAULT 0,
    "incidentSeverity" TEXT,
    "jailbreakAttempts" INTEGER NOT NULL DEFAULT 0,
    "isTestData" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "session_metrics_sessionId_key" ON session_metrics("sessionId");
CREATE INDEX IF NOT EXISTS "session_metrics_userId_idx" ON session_metrics("userId");

CREATE TABLE IF NOT EXISTS voice_usage_events (
    "id" TEXT PRIMARY KEY,
    "userId" TEXT NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
    "sessionId" TEXT NOT NULL,
    "maestroId" TEXT,
    "model" TEXT NOT NULL,
    "audioInputTokens" INTEGER NOT NULL DEFAULT 0,
    "audioOutputTokens" INTEGER NOT NULL DEFAULT 0,
    "textInputTokens" INTEGER NOT NULL DEFAULT 0,
    "textOutputTokens" INTEGER NOT NULL DEFAULT 0,
    "cachedInputTokens" INTEGER NOT NULL DEFAULT 0,
    "costEur" DOUBLE PRECISION DEFAULT 0,
    "periodDay" TEXT NOT NULL,
    "periodMonth" TEXT NOT NULL,
    "isTestData" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "voice_usage_events_userId_periodDay_idx" ON voice_usage_events("userId", "periodDay");
CREATE INDEX IF NOT EXISTS "voice_usage_events_userId_periodMonth_idx" ON voice_usage_events("userId", "periodMonth");
CREATE INDEX IF NOT EXISTS "voice_usage_events_sessionId_idx" ON voice_usage_events("sessionId");
CREATE INDEX IF NOT EXISTS "voice_usage_events_createdAt_idx" ON voice_usage_events("createdAt");

CREATE TABLE IF NOT EXISTS "VideoVisionUsage" (
    "id" TEXT PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "voiceSessionId" TEXT NOT NULL,
    "framesUsed" INTEGER,
    "secondsUsed" INTEGER NOT NULL DEFAULT 0,
    "periodMonth" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS "VideoVisionUsage_userId_periodMonth_idx" ON "VideoVisionUsage"("userId", "periodMonth");
CREATE INDEX IF NOT EXISTS "VideoVisionUsage_voiceSessionId_idx" ON "VideoVisionUsage"("voiceSessionId");
CREATE INDEX IF NOT EXISTS "VideoVisionUsage_createdAt_idx" ON "VideoVisionUsage"("createdAt");

CREATE TABLE IF NOT EXISTS "TelemetryEvent" (
    "id" TEXT PRIMARY KEY,
    "eventId" TEXT NOT NULL,
    "timestamp" TIMESTAMP(3) NOT NULL,
    "category" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "label" TEXT,
    "value" DOUBLE PRECISION,
    "metadata" TEXT,
    "sessionId" TEXT NOT NULL,
    "userId" TEXT,
    "isTestData" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX IF NOT EXISTS "TelemetryEvent_eventId_key" ON "TelemetryEvent"("eventId");
CREATE INDEX IF NOT EXISTS "TelemetryEvent_userId_idx" ON "TelemetryEvent"("userId");
CREATE INDEX IF NOT EXISTS "TelemetryEvent_sessionId_idx" ON "TelemetryEvent"("sessionId");
CREATE INDEX IF NOT EXISTS "TelemetryEvent_timestamp_idx" ON "TelemetryEvent"("timestamp");
CREATE INDEX IF NOT EXISTS "TelemetryEvent_category_idx" ON "TelemetryEvent"("category");
CREATE INDEX IF NOT EXISTS "TelemetryEvent_action_idx" ON "TelemetryEvent"("action");

CREATE TABLE IF NOT EXISTS "SafetyEvent" (
    "id" TEXT PRIMARY KEY,
    "userId" TEXT,
    "type" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "conversationId" TEXT,
    "resolvedBy" TEXT,
    "resolvedAt" TIMESTAMP(3),
    "resolution" TEXT,
    "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "category" TEXT,
    "sessionId" TEXT,
    "contentSnippet" TEXT,
    "locale" TEXT,
    "metadata" JSONB,
    "parentNotified" BOOLEAN NOT NULL DEFAULT false,
    "parentNotifiedAt" TIMESTAMP(3)
);
CREATE INDEX IF NOT EXISTS "SafetyEvent_userId_timestamp_idx" ON "SafetyEvent"("userId", "timestamp");
CREATE INDEX IF NOT EXISTS "SafetyEvent_severity_timestamp_idx" ON "SafetyEvent"("severity", "timestamp");
CREATE INDEX IF NOT EXISTS "SafetyEvent_timestamp_idx" ON "SafetyEvent"("timestamp");
CREATE INDEX IF NOT EXISTS "SafetyEvent_category_timestamp_idx" ON "SafetyEvent"("category", "timestamp");

-- Row-level security is on for every table in the source app (migration
-- 20260210230000_enable_rls_all_tables); keep it so the exporter role is tested against it.
ALTER TABLE session_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE voice_usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE "VideoVisionUsage" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "TelemetryEvent" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "SafetyEvent" ENABLE ROW LEVEL SECURITY;
