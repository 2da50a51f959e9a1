package dev.opswatch.exporter.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The default cost queries against hand-computed rows in a real PostgreSQL. */
class CostSourceIT {
  /** Half-way through November 2026 (UTC): the forecast is twice the month-to-date spend. */
  private static final Instant NOW = Instant.parse("2026-11-16T00:00:00Z");

  private static TestDatabase db;

  @BeforeAll
  static void rows() {
    db = TestDatabase.create();
    db.execute("""
        INSERT INTO "User" (id) VALUES ('u1');
        INSERT INTO session_metrics (id, "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "isTestData", "createdAt", "updatedAt") VALUES
          ('s1', 's1', 'u1', 1000, 500, 1.50, false, '2026-11-01 00:00:00', now()),   -- first instant of the period
          ('s2', 's2', 'u1', 2000, 250, 2.25, false, '2026-11-15 10:00:00', now()),
          ('s3', 's3', 'u1', 9999, 9999, 100, true, '2026-11-10 10:00:00', now()),    -- test data: ignored
          ('s4', 's4', 'u1', 10, 10, NULL, false, '2026-11-10 11:00:00', now()),       -- rejected: null_value
          ('s5', 's5', 'u1', 10, 10, -5, false, '2026-11-10 12:00:00', now()),         -- rejected: negative_value
          ('s6', 's6', 'u1', 10, 10, 'NaN', false, '2026-11-10 13:00:00', now()),      -- rejected: not_finite
          ('s7', 's7', 'u1', 10, 10, 5000, false, '2026-11-10 14:00:00', now()),       -- rejected: absurd_value
          ('s8', 's8', 'u1', 10, 10, 7, false, '2026-10-31 23:59:59.999', now()),      -- October
          ('s9', 's9', 'u1', 10, 10, 7, false, '2026-12-01 00:00:00', now());          -- December (end is exclusive)
        INSERT INTO voice_usage_events (id, "userId", "sessionId", model, "audioInputTokens", "audioOutputTokens", "textInputTokens",
                                        "textOutputTokens", "cachedInputTokens", "costEur", "periodDay", "periodMonth", "isTestData", "createdAt") VALUES
          ('v1', 'u1', 'vs', 'gpt-realtime-mini', 100, 200, 10, 20, 5, 0.75, '2026-11-02', '2026-11', false, '2026-11-02 08:00:00'),
          ('v2', 'u1', 'vs', 'gpt-realtime', 300, 400, 30, 40, 0, 1.00, '2026-11-03', '2026-11', false, '2026-11-03 08:00:00'),
          ('v3', 'u1', 'vs', 'gpt-realtime', 1, 1, 1, 1, 0, 900, '2026-11-03', '2026-11', true, '2026-11-03 09:00:00');
        INSERT INTO "VideoVisionUsage" (id, "userId", "voiceSessionId", "framesUsed", "periodMonth", "createdAt") VALUES
          ('f1', 'u1', 'vs', 10, '2026-11', '2026-11-05 10:00:00'),
          ('f2', 'u1', 'vs', NULL, '2026-11', '2026-11-05 11:00:00');
        """);
  }

  @AfterAll
  static void drop() {
    db.close();
  }

  private static SourceOutput<CostReport> refresh(String hocon) throws Exception {
    ExporterConfig config = TestConfigs.forDatabase(db, hocon);
    try (Database database = new Database(config.database())) {
      return new CostSource(config, database).refresh(NOW);
    }
  }

  @Test
  void monthToDateAndForecastAreExact() throws Exception {
    SourceOutput<CostReport> out = refresh("");
    CostReport report = out.payload();
    ProviderCost azure = report.providers().get(0);
    // text 1.50 + 2.25; voice 0.75 + 1.00; video 10 frames x 0.067.
    assertEquals(3.75, azure.costByQuery().get("text_sessions"), 1e-9);
    assertEquals(1.75, azure.costByQuery().get("voice"), 1e-9);
    assertEquals(0.67, azure.costByQuery().get("video_frames"), 1e-9);
    assertEquals(6.17, azure.monthToDateEur(), 1e-9);
    assertEquals(12.34, azure.forecastEur(), 1e-9);
    assertEquals(6.17 + 20 + 25 + 26, report.totalMonthToDateEur(), 1e-9);
    assertEquals(12.34 + 71, report.totalForecastEur(), 1e-9);
    assertEquals(Level.OK, azure.spend().orElseThrow().level());
  }

  @Test
  void tokensAndCostPerModel() throws Exception {
    ProviderCost azure = refresh("").payload().providers().get(0);
    Map<String, ModelUsage> models = azure.models().stream().collect(Collectors.toMap(ModelUsage::model, m -> m));
    assertEquals(3.75, models.get("gpt-5-mini").costEur(), 1e-9);
    assertEquals(3000, models.get("gpt-5-mini").tokensInput());
    assertEquals(750, models.get("gpt-5-mini").tokensOutput());
    assertEquals(ModelUsage.NO_TOKENS, models.get("gpt-5-mini").tokensCachedInput());
    assertEquals(110, models.get("gpt-realtime-mini").tokensInput(), "audio 100 + text 10");
    assertEquals(220, models.get("gpt-realtime-mini").tokensOutput());
    assertEquals(5, models.get("gpt-realtime-mini").tokensCachedInput());
    assertEquals(1.00, models.get("gpt-realtime").costEur(), 1e-9, "the 900 EUR test row is excluded");
    assertEquals(0.67, models.get("video-vision").costEur(), 1e-9);
  }

  @Test
  void badRowsAreCountedAsRejectedNotSummed() throws Exception {
    Map<String, Long> rejected = refresh("").rejectedRows();
    assertEquals(Map.of("null_value", 2L, "negative_value", 1L, "not_finite", 1L, "absurd_value", 1L), rejected);
  }

  @Test
  void pastDaysAreReadOncePerIntervalAndTodayAtEveryRefresh() throws Exception {
    try (TestDatabase own = TestDatabase.create()) {
      own.execute("""
          INSERT INTO "User" (id) VALUES ('u1');
          INSERT INTO session_metrics (id, "sessionId", "userId", "costEur", "createdAt", "updatedAt")
          VALUES ('a', 'a', 'u1', 2.0, '2026-11-05 10:00:00', now());
          """);
      ExporterConfig config = TestConfigs.forDatabase(own, "opswatch.sources.costs.closed-days-refresh = 1h\n");
      try (Database database = new Database(config.database())) {
        CostSource source = new CostSource(config, database);
        // At midnight, and again once late-row-grace (5m) has passed: then the past days are kept.
        assertEquals(2.0, textCost(source.refresh(NOW)), 1e-9);
        assertEquals(2.0, textCost(source.refresh(NOW.plusSeconds(600))), 1e-9);
        own.execute("""
            INSERT INTO session_metrics (id, "sessionId", "userId", "costEur", "createdAt", "updatedAt") VALUES
              ('today', 'today', 'u1', 0.5, '2026-11-16 00:10:00', now()),
              ('late', 'late', 'u1', 1.0, '2026-11-06 10:00:00', now());
            """);
        // Today's row counts at once; the late row for a past day waits for the closed-days re-read.
        assertEquals(2.5, textCost(source.refresh(NOW.plusSeconds(1800))), 1e-9);
        assertEquals(3.5, textCost(source.refresh(NOW.plusSeconds(3 * 3600))), 1e-9);
        // A new day re-reads the past at once.
        own.execute("""
            INSERT INTO session_metrics (id, "sessionId", "userId", "costEur", "createdAt", "updatedAt")
            VALUES ('later', 'later', 'u1', 4.0, '2026-11-07 10:00:00', now());
            """);
        assertEquals(7.5, textCost(source.refresh(Instant.parse("2026-11-17T00:05:00Z"))), 1e-9);
      }
    }
  }

  private static double textCost(SourceOutput<CostReport> out) {
    return out.payload().providers().get(0).costByQuery().get("text_sessions");
  }

  @Test
  void aStatementSlowerThanTheTimeoutIsCutByTheServer() {
    String slow = """
        opswatch.database.statement-timeout = 500ms
        opswatch.cost-queries.text_sessions.sql = "SELECT 'm' AS model, pg_sleep(5)::text::int::float8 AS cost_eur"
        """;
    Exception e = assertThrows(SQLException.class, () -> refresh(slow));
    assertTrue(e.getMessage().contains("statement timeout"), e.getMessage());
  }

  @Test
  void theSessionIsReadOnlyWhateverTheQuerySays() {
    String write = """
        opswatch.cost-queries.text_sessions.sql = "WITH w AS (INSERT INTO \\"User\\" (id) VALUES ('intruder') RETURNING 1) SELECT 'm' AS model, 0.0::float8 AS cost_eur FROM w"
        """;
    Exception e = assertThrows(SQLException.class, () -> refresh(write));
    assertTrue(e.getMessage().contains("read-only transaction"), e.getMessage());
  }
}
