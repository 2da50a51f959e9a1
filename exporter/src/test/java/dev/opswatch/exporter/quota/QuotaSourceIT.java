package dev.opswatch.exporter.quota;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Quota usage, ratio and status from hand-made TelemetryEvent rows, at the boundaries. */
class QuotaSourceIT {
  /** A Sunday in March; the month has 31 days. */
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");

  /** Past days are re-read at every refresh here: the tests add rows between refreshes at one {@code NOW}. */
  private static final String QUOTAS = """
      opswatch.billing.time-zone = "Europe/Rome"
      opswatch.sources.quotas.closed-days-refresh = 0s
      opswatch.quotas.providers = null
      opswatch.quotas.providers {
        test_api {
          display-name = "Test API"
          warning-ratio = 0.80
          critical-ratio = 0.95
          quotas {
            requests_per_minute { display-name = "Requests/min", measure = count, window = 1m, limit = 100 }
            tokens_per_minute { display-name = "Tokens/min", actions = [chat_completion], measure = sum, window = 1m, limit = 1000 }
            requests_per_day { measure = count, window = 24h, limit = 1000 }
            requests_per_month { display-name = "Requests/month", measure = count, window = month, limit = 100 }
          }
        }
        other_api { quotas { calls_per_minute { measure = count, window = 1m, limit = 10 } } }
      }
      """;

  private static TestDatabase db;
  private static Database database;
  private static QuotaSource fast;
  private static QuotaSource slow;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    ExporterConfig config = TestConfigs.forDatabase(db, QUOTAS);
    database = new Database(config.database());
    List<QuotaSource> sources = QuotaSource.create(config, database);
    fast = sources.stream().filter(s -> s.name().equals("quotas_fast")).findFirst().orElseThrow();
    slow = sources.stream().filter(s -> s.name().equals("quotas")).findFirst().orElseThrow();
  }

  @AfterAll
  static void stop() {
    if (database != null) {
      database.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @BeforeEach
  void empty() {
    db.execute("TRUNCATE \"TelemetryEvent\"");
  }

  @Test
  void rollingCountAtTheWarningAndExceededBoundaries() throws Exception {
    calls(79, "test_api", "search", null, NOW.minusSeconds(30));
    assertQuota(fast, "requests_per_minute", 79, 0.79, Level.OK);
    calls(1, "test_api", "search", null, NOW.minusSeconds(30));
    assertQuota(fast, "requests_per_minute", 80, 0.80, Level.WARNING);
    calls(19, "test_api", "search", null, NOW.minusSeconds(30));
    assertQuota(fast, "requests_per_minute", 99, 0.99, Level.CRITICAL);
    calls(1, "test_api", "search", null, NOW.minusSeconds(30));
    assertQuota(fast, "requests_per_minute", 100, 1.0, Level.EXCEEDED);
  }

  @Test
  void rollingSumCountsTokensAndOneForACallWithout() throws Exception {
    calls(1, "test_api", "chat_completion", 780.0, NOW.minusSeconds(10));
    calls(1, "test_api", "chat_completion", null, NOW.minusSeconds(10));
    calls(1, "test_api", "chat_completion", 0.0, NOW.minusSeconds(10));
    calls(5, "test_api", "embedding", 500.0, NOW.minusSeconds(10));
    assertQuota(fast, "tokens_per_minute", 782, 0.782, Level.OK);
    calls(1, "test_api", "chat_completion", 18.0, NOW.minusSeconds(10));
    assertQuota(fast, "tokens_per_minute", 800, 0.80, Level.WARNING);
    calls(1, "test_api", "chat_completion", 190.0, NOW.minusSeconds(10));
    assertQuota(fast, "tokens_per_minute", 990, 0.99, Level.CRITICAL);
    calls(1, "test_api", "chat_completion", 10.0, NOW.minusSeconds(10));
    assertQuota(fast, "tokens_per_minute", 1000, 1.0, Level.EXCEEDED);
  }

  @Test
  void rollingWindowIncludesItsStartAndExcludesNow() throws Exception {
    calls(1, "test_api", "search", null, NOW.minusSeconds(60));
    calls(2, "test_api", "search", null, NOW.minusSeconds(60).minusMillis(1));
    calls(4, "test_api", "search", null, NOW);
    assertQuota(fast, "requests_per_minute", 1, 0.01, Level.OK);
    calls(8, "test_api", "search", null, NOW.minus(Duration.ofHours(23)));
    calls(16, "test_api", "search", null, NOW.minus(Duration.ofHours(25)));
    assertQuota(slow, "requests_per_day", 1 + 2 + 8, 0.011, Level.OK);
  }

  @Test
  void calendarMonthAtTheBoundaries() throws Exception {
    calls(79, "test_api", "search", null, Instant.parse("2026-03-01T00:00:00Z"));
    assertQuota(slow, "requests_per_month", 79, 0.79, Level.OK);
    calls(1, "test_api", "search", null, Instant.parse("2026-03-10T08:00:00Z"));
    assertQuota(slow, "requests_per_month", 80, 0.80, Level.WARNING);
    calls(19, "test_api", "search", null, Instant.parse("2026-03-15T11:59:59Z"));
    assertQuota(slow, "requests_per_month", 99, 0.99, Level.CRITICAL);
    calls(1, "test_api", "search", null, Instant.parse("2026-03-15T11:00:00Z"));
    assertQuota(slow, "requests_per_month", 100, 1.0, Level.EXCEEDED);

    Exposition metrics = Exposition.of(slow.refresh(NOW).metrics());
    String[] q = {"provider", "test_api", "quota", "requests_per_month"};
    // March 1st 00:00 in Rome is 23:00 UTC on February 28th; April 1st 00:00 in Rome is 22:00 UTC (summer time).
    assertEquals(Instant.parse("2026-03-31T22:00:00Z").getEpochSecond(), metrics.value("opswatch_quota_reset_timestamp_seconds", q));
    assertEquals(Duration.ofDays(31).minusHours(1).toSeconds(), metrics.value("opswatch_quota_window_seconds", q));
    assertEquals(100, metrics.value("opswatch_quota_limit", q));
    assertEquals(0.80, metrics.value("opswatch_quota_warning_ratio", q));
    assertEquals(0.95, metrics.value("opswatch_quota_critical_ratio", q));
    assertEquals("exceeded", metrics.state("opswatch_quota_status", q).orElseThrow());
    assertTrue(metrics.series("opswatch_quota_reset_timestamp_seconds").stream().allMatch(s -> s.contains("requests_per_month")),
        "rolling windows have no reset time");
  }

  @Test
  void calendarMonthRollsOverInTheBillingZone() throws Exception {
    calls(50, "test_api", "search", null, Instant.parse("2026-03-20T10:00:00Z"));
    // 22:30 UTC on March 31st is already April 1st, 00:30, in Rome.
    calls(3, "test_api", "search", null, Instant.parse("2026-03-31T22:30:00Z"));
    Instant lastMinuteOfMarch = Instant.parse("2026-03-31T21:59:00Z");
    assertQuota(slow, lastMinuteOfMarch, "requests_per_month", 50, 0.50, Level.OK);

    Instant firstMinuteOfApril = Instant.parse("2026-03-31T22:01:00Z");
    calls(1, "test_api", "search", null, Instant.parse("2026-03-31T21:59:30Z"));
    calls(2, "test_api", "search", null, Instant.parse("2026-03-31T22:00:00Z"));
    // The 3 rows at 22:30 lie after "now" and are not counted yet.
    assertQuota(slow, firstMinuteOfApril, "requests_per_month", 2, 0.02, Level.OK);
    assertQuota(slow, Instant.parse("2026-04-01T12:00:00Z"), "requests_per_month", 5, 0.05, Level.OK);

    Exposition april = Exposition.of(slow.refresh(firstMinuteOfApril).metrics());
    String[] q = {"provider", "test_api", "quota", "requests_per_month"};
    assertEquals(Instant.parse("2026-04-30T22:00:00Z").getEpochSecond(), april.value("opswatch_quota_reset_timestamp_seconds", q));
    assertEquals(Duration.ofDays(30).toSeconds(), april.value("opswatch_quota_window_seconds", q));
  }

  @Test
  void onlyTheProvidersCallsOfTheCategoryAndNoTestData() throws Exception {
    calls(3, "test_api", "search", null, NOW.minusSeconds(5));
    calls(4, "other_api", "search", null, NOW.minusSeconds(5));
    calls(5, "unknown_api", "search", null, NOW.minusSeconds(5));
    db.execute(insertSql("test_api", "search", "navigation", "NULL", "NULL", NOW.minusSeconds(5), false));
    db.execute(insertSql("test_api", "search", "external_api", "NULL", "NULL", NOW.minusSeconds(5), true));
    assertQuota(fast, "requests_per_minute", 3, 0.03, Level.OK);
    SourceOutput<QuotaReport> output = fast.refresh(NOW);
    Exposition metrics = Exposition.of(output.metrics());
    assertEquals(4, metrics.value("opswatch_quota_usage", "provider", "other_api", "quota", "calls_per_minute"));
    assertEquals(Map.of(), output.rejectedRows());
  }

  @Test
  void badRowsAreRejectedAndNeverFailTheRefresh() throws Exception {
    calls(2, null, "search", null, NOW.minusSeconds(5));
    calls(1, "test_api", "chat_completion", -5.0, NOW.minusSeconds(5));
    calls(1, "test_api", "chat_completion", Double.NaN, NOW.minusSeconds(5));
    calls(1, "test_api", "chat_completion", Double.POSITIVE_INFINITY, NOW.minusSeconds(5));
    calls(1, "test_api", "chat_completion", 100.0, NOW.minusSeconds(5));
    SourceOutput<QuotaReport> output = assertDoesNotThrow(() -> fast.refresh(NOW));
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 2L, RejectedRows.NEGATIVE_VALUE, 1L, RejectedRows.NOT_FINITE, 2L), output.rejectedRows());
    QuotaReport report = output.payload();
    assertEquals(100, usage(report, "tokens_per_minute").usage(), "bad values are left out of sums");
    assertEquals(4, usage(report, "requests_per_minute").usage(), "but still count as calls");

    // The slow source sees the same rows in its 24h and month windows, and counts each once.
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 2L, RejectedRows.NEGATIVE_VALUE, 1L, RejectedRows.NOT_FINITE, 2L),
        slow.refresh(NOW).rejectedRows());
  }

  @Test
  void monthPastDaysAreReadOncePerIntervalAndTodayAtEveryRefresh() throws Exception {
    QuotaSource cached = slowSource("opswatch.sources.quotas.closed-days-refresh = 1h");
    calls(10, "test_api", "search", null, Instant.parse("2026-03-10T08:00:00Z"));
    calls(2, null, "search", null, Instant.parse("2026-03-10T08:00:00Z"));
    calls(1, "test_api", "chat_completion", -5.0, Instant.parse("2026-03-10T08:00:00Z"));
    SourceOutput<QuotaReport> first = cached.refresh(NOW);
    assertEquals(11, usage(first.payload(), "requests_per_month").usage());
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 2L, RejectedRows.NEGATIVE_VALUE, 1L), first.rejectedRows());

    // Today's rows count at once; the late row for a past day waits for the past days' re-read.
    calls(1, "test_api", "search", null, Instant.parse("2026-03-15T11:00:00Z"));
    calls(1, null, "search", null, Instant.parse("2026-03-15T11:00:00Z"));
    // March 14th, 21:00 in Rome: a past day for the month, inside the 24h window.
    calls(2, "test_api", "search", null, Instant.parse("2026-03-14T20:00:00Z"));
    SourceOutput<QuotaReport> halfHourLater = cached.refresh(NOW.plusSeconds(1800));
    assertEquals(12, usage(halfHourLater.payload(), "requests_per_month").usage());
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 1L), halfHourLater.rejectedRows(), "only today's bad rows were read");
    // The 24h window keeps its closed hours too: the row of 11:00 UTC lies in an hour it had not
    // kept yet (it ended less than late-row-grace before the last refresh), the late rows of 20:00
    // yesterday in one it had kept.
    assertEquals(1, usage(halfHourLater.payload(), "requests_per_day").usage(), "only hours not kept yet are read");

    SourceOutput<QuotaReport> threeHoursLater = cached.refresh(NOW.plusSeconds(3 * 3600));
    assertEquals(14, usage(threeHoursLater.payload(), "requests_per_month").usage());
    assertEquals(3, usage(threeHoursLater.payload(), "requests_per_day").usage(), "every hour is read again each closed-days-refresh");
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 3L, RejectedRows.NEGATIVE_VALUE, 1L), threeHoursLater.rejectedRows());

    // A new day in Rome re-reads the past days at once, less than an hour after the last read.
    assertQuota(cached, Instant.parse("2026-03-15T22:30:00Z"), "requests_per_month", 14, 0.14, Level.OK);
    calls(4, "test_api", "search", null, Instant.parse("2026-03-12T08:00:00Z"));
    assertQuota(cached, Instant.parse("2026-03-15T22:40:00Z"), "requests_per_month", 14, 0.14, Level.OK);
    // 23:05 UTC is March 16th, 00:05, in Rome.
    assertQuota(cached, Instant.parse("2026-03-15T23:05:00Z"), "requests_per_month", 18, 0.18, Level.OK);
  }

  @Test
  void eachWindowReadsOnlyItsQuotasProvidersAndCountsABadRowOnce() throws Exception {
    QuotaSource slowWithDay = slowSource("opswatch.quotas.providers.day_api.quotas.calls_per_day { measure = count, window = 24h, limit = 10 }");
    Instant pastDay = Instant.parse("2026-03-10T08:00:00Z");
    Instant hourAgo = NOW.minus(Duration.ofHours(1));
    calls(3, "test_api", "search", null, pastDay);
    calls(1, "test_api", "chat_completion", -1.0, hourAgo);
    // other_api has only a 1-minute quota and day_api only a 24h one: the month window reads neither.
    calls(5, "other_api", "search", -1.0, pastDay);
    calls(1, "other_api", "search", Double.NaN, hourAgo);
    calls(6, "day_api", "search", -1.0, pastDay);
    calls(2, "day_api", "search", Double.NaN, hourAgo);
    calls(2, null, "search", null, pastDay);
    calls(1, null, "search", null, hourAgo);

    SourceOutput<QuotaReport> output = slowWithDay.refresh(NOW);
    QuotaReport report = output.payload();
    assertEquals(4, usage(report, "requests_per_month").usage());
    assertEquals(1, usage(report, "requests_per_day").usage());
    assertEquals(2, usage(report, "calls_per_day").usage());
    // test_api's bad row lies in its 24h and month windows and day_api's in its 24h window: each
    // counts once. Rows without a label are counted once, by the month window, the widest.
    assertEquals(Map.of(RejectedRows.NULL_LABEL, 3L, RejectedRows.NEGATIVE_VALUE, 1L, RejectedRows.NOT_FINITE, 2L),
        output.rejectedRows());
  }

  @Test
  void failedCallsFromMetadataWithInvalidJsonRejected() throws Exception {
    Instant t = NOW.minusSeconds(60);
    metadata("test_api", "{\"success\":true,\"latencyMs\":120}", t);
    metadata("test_api", "{\"success\":false,\"latencyMs\":900,\"errorCode\":\"429\"}", t);
    metadata("test_api", "{\"success\":\"false\"}", t);
    metadata("test_api", "{\"success\":false,\"detail\":{\"retries\":[1,2]}}", t);
    metadata("test_api", "not json at all", t);
    metadata("test_api", "{\"success\":false,}", t);
    // Valid JSON that a ::jsonb cast refuses (jsonb text cannot hold NUL): read in Java, not rejected.
    metadata("test_api", "{\"a\":\"\\u0000\"}", t);
    metadata("test_api", null, t);
    metadata("other_api", "{\"success\":true}", t);
    metadata("test_api", "{\"success\":false}", NOW.minus(Duration.ofMinutes(16)));

    SourceOutput<QuotaReport> output = assertDoesNotThrow(() -> slow.refresh(NOW));
    assertEquals(Map.of(RejectedRows.BAD_METADATA, 2L), output.rejectedRows());
    Exposition metrics = Exposition.of(output.metrics());
    assertEquals(3, metrics.value("opswatch_external_calls", "provider", "test_api", "outcome", "failure"));
    assertEquals(5, metrics.value("opswatch_external_calls", "provider", "test_api", "outcome", "success"));
    assertEquals(3.0 / 8, metrics.value("opswatch_external_call_error_ratio", "provider", "test_api"), 1e-9);
    assertEquals(0, metrics.value("opswatch_external_call_error_ratio", "provider", "other_api"));
    assertEquals(1, metrics.value("opswatch_external_calls", "provider", "other_api", "outcome", "success"));
  }

  /** A {@code quotas} source of its own, with {@code hocon} on top of the test's quotas. */
  private static QuotaSource slowSource(String hocon) {
    ExporterConfig config = TestConfigs.forDatabase(db, QUOTAS + hocon + "\n");
    return QuotaSource.create(config, database).stream()
        .filter(s -> s.name().equals(QuotaSource.SLOW)).findFirst().orElseThrow();
  }

  private static void assertQuota(QuotaSource source, String quota, double usage, double ratio, Level level) throws Exception {
    assertQuota(source, NOW, quota, usage, ratio, level);
  }

  private static void assertQuota(QuotaSource source, Instant now, String quota, double usage, double ratio, Level level) throws Exception {
    SourceOutput<QuotaReport> output = source.refresh(now);
    QuotaUsage u = usage(output.payload(), quota);
    assertEquals(usage, u.usage(), 1e-9, quota + " usage");
    assertEquals(ratio, u.ratio(), 1e-9, quota + " ratio");
    assertEquals(level, u.level(), quota + " level at ratio " + u.ratio());
    Exposition metrics = Exposition.of(output.metrics());
    String[] labels = {"provider", "test_api", "quota", quota};
    assertEquals(usage, metrics.value("opswatch_quota_usage", labels), 1e-9);
    assertEquals(ratio, metrics.value("opswatch_quota_usage_ratio", labels), 1e-9);
    assertEquals(level.label(), metrics.state("opswatch_quota_status", labels).orElseThrow());
  }

  private static QuotaUsage usage(QuotaReport report, String quota) {
    return report.usages().stream().filter(u -> u.quota().id().equals(quota)).findFirst().orElseThrow();
  }

  private static void calls(int n, String label, String action, Double value, Instant at) throws SQLException {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, value, metadata, \"sessionId\")"
            + " VALUES (?, ?, ?, 'external_api', ?, ?, ?, '{\"success\":true}', 'system')")) {
      for (int i = 0; i < n; i++) {
        String id = UUID.randomUUID().toString();
        s.setString(1, id);
        s.setString(2, "ext_" + id);
        s.setObject(3, LocalDateTime.ofInstant(at, ZoneOffset.UTC));
        s.setString(4, action);
        s.setString(5, label);
        if (value == null) {
          s.setNull(6, java.sql.Types.DOUBLE);
        } else {
          s.setDouble(6, value);
        }
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static void metadata(String label, String metadata, Instant at) throws SQLException {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, value, metadata, \"sessionId\")"
            + " VALUES (?, ?, ?, 'external_api', 'search', ?, 1, ?, 'system')")) {
      String id = UUID.randomUUID().toString();
      s.setString(1, id);
      s.setString(2, "ext_" + id);
      s.setObject(3, LocalDateTime.ofInstant(at, ZoneOffset.UTC));
      s.setString(4, label);
      s.setString(5, metadata);
      s.executeUpdate();
    }
  }

  private static String insertSql(String label, String action, String category, String value, String metadata, Instant at, boolean testData) {
    String id = UUID.randomUUID().toString();
    return "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, value, metadata, \"sessionId\", \"isTestData\")"
        + " VALUES ('" + id + "', 'ext_" + id + "', '" + Timestamp.valueOf(LocalDateTime.ofInstant(at, ZoneOffset.UTC)) + "', '"
        + category + "', '" + action + "', '" + label + "', " + value + ", " + metadata + ", 'system', " + testData + ")";
  }
}
