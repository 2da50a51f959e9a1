package dev.opswatch.exporter.quota;

import static dev.opswatch.exporter.testing.SpanRecorder.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.testing.SpanRecorder;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The quotas source keeps closed hours (Europe/Rome billing): a month window today's, a rolling
 * window longer than two hours its whole UTC hours. Which spans a refresh reads, how late a row may
 * be written and still count, and that every usage equals a full re-read (one query over the window)
 * across hours, days, a month, a clock going back and both daylight saving changes. Values are
 * multiples of 1/8, so sums are exact in any order.
 */
class ClosedHoursQuotaIT {
  private static final ZoneId ROME = ZoneId.of("Europe/Rome");
  private static final Duration GRACE = Duration.ofMinutes(5);
  private static final String CONFIG = """
      opswatch.billing.time-zone = "Europe/Rome"
      opswatch.sources.quotas.closed-days-refresh = 1h
      opswatch.sources.quotas.late-row-grace = 5m
      opswatch.quotas.providers = null
      opswatch.quotas.providers {
        test_api {
          quotas {
            per_day { measure = count, window = 24h, limit = 1000 }
            chat_tokens_per_day { actions = [chat], measure = sum, window = 24h, limit = 100000 }
            per_3h { measure = sum, window = 3h, limit = 1000 }
            per_90m { measure = count, window = 90m, limit = 1000 }
            per_month { measure = sum, window = month, limit = 100000 }
          }
        }
        other_api { quotas { per_day { measure = count, window = 24h, limit = 10 }, per_month { measure = count, window = month, limit = 10 } } }
      }
      """;
  private static final AtomicInteger IDS = new AtomicInteger();

  private TestDatabase db;
  private ExporterConfig config;
  private Database database;
  private final SpanRecorder recorder = new SpanRecorder();

  @BeforeEach
  void start() {
    db = TestDatabase.create();
    config = TestConfigs.forDatabase(db, CONFIG);
    database = new Database(config.database());
  }

  @AfterEach
  void stop() {
    database.close();
    db.close();
  }

  private QuotaSource source() {
    List<QuotaSource> sources = QuotaSource.create(config, database);
    assertEquals(1, sources.size(), "no window of 5 minutes or less here");
    return sources.get(0);
  }

  private QuotaReport refresh(QuotaSource source, Instant now) throws SQLException {
    return database.readOnly(c -> source.read(recorder.wrap(c), now, new RejectedRows()));
  }

  @Test
  void aRefreshReadsTheTwoPartialHoursOfARollingWindowAndTheOpenHourOfAMonth() throws Exception {
    QuotaSource source = source();
    Instant now = Instant.parse("2026-03-16T10:20:00Z");
    refresh(source, now);
    List<String> first = recorder.take();
    assertTrue(first.contains(span(Instant.parse("2026-02-28T23:00:00Z"), Instant.parse("2026-03-15T23:00:00Z"))), "past days " + first);
    assertTrue(first.contains(span(Instant.parse("2026-03-15T23:00:00Z"), Instant.parse("2026-03-16T10:00:00Z"))), "today's hours " + first);
    assertTrue(first.contains(span(Instant.parse("2026-03-15T11:00:00Z"), Instant.parse("2026-03-16T10:00:00Z"))),
        "the 24h window's 23 whole hours in one query " + first);

    Instant steady = now.plusSeconds(15);
    refresh(source, steady);
    Instant open = Instant.parse("2026-03-16T10:00:00Z");
    assertEquals(Map.of(
            span(open, steady), 3, // the month's open hour, the 24h and the 3h windows' last partial hour
            span(steady.minus(Duration.ofHours(24)), Instant.parse("2026-03-15T11:00:00Z")), 1, // 24h: its first partial hour
            span(steady.minus(Duration.ofHours(3)), Instant.parse("2026-03-16T08:00:00Z")), 1, // 3h: its first partial hour
            span(steady.minus(Duration.ofMinutes(90)), steady), 1, // 90m: read whole
            span(steady.minus(Duration.ofMinutes(15)), steady), 1), // the error window
        counts(recorder.take()));

    Instant nextHour = Instant.parse("2026-03-16T11:05:00Z");
    refresh(source, nextHour);
    List<String> later = recorder.take();
    assertEquals(3, later.stream().filter(s -> s.equals(span(open, Instant.parse("2026-03-16T11:00:00Z")))).count(),
        "the newly closed hour, once per window that keeps hours: " + later);
    assertTrue(later.stream().noneMatch(s -> s.startsWith("2026-03-15T23:00:00Z")), "today's earlier hours are not read again");
  }

  @Test
  void aRowUpToTheGraceLateCountsAtTheNextRefreshALaterOneAtTheNextWholeReRead() throws Exception {
    QuotaSource source = source();
    Instant first = Instant.parse("2026-03-16T10:20:00Z");
    calls(1, "test_api", 1.0, Instant.parse("2026-03-16T09:30:00Z"));
    assertUsage(refresh(source, first), "per_day", 1);
    calls(2, "test_api", 1.0, Instant.parse("2026-03-16T10:58:00Z")); // written at 11:02: 4 minutes late
    QuotaReport inGrace = refresh(source, Instant.parse("2026-03-16T11:02:00Z"));
    assertUsage(inGrace, "per_day", 3);
    assertUsage(inGrace, "per_month", 3);
    refresh(source, Instant.parse("2026-03-16T11:06:00Z")); // keeps the 10:00 hour
    calls(4, "test_api", 1.0, Instant.parse("2026-03-16T10:50:00Z")); // written at 11:10: 20 minutes late
    QuotaReport kept = refresh(source, Instant.parse("2026-03-16T11:10:00Z"));
    assertUsage(kept, "per_day", 3);
    assertUsage(kept, "per_month", 3);
    assertUsage(kept, "per_90m", 2 + 4, "a window read whole sees it at once (09:30 lies before it)");
    QuotaReport reRead = refresh(source, first.plus(Duration.ofHours(1)));
    assertUsage(reRead, "per_day", 7);
    assertUsage(reRead, "per_month", 7);
    assertEqualsFullReRead(reRead, first.plus(Duration.ofHours(1)));
  }

  @Test
  void equalsAFullReReadAcrossTheFallBackDayAndTheMonthEnd() throws Exception {
    walk(Instant.parse("2026-10-24T20:00:00Z"), Instant.parse("2026-10-26T02:00:00Z"), 3001L);
    walk(Instant.parse("2026-10-31T18:00:00Z"), Instant.parse("2026-11-01T08:00:00Z"), 3002L);
  }

  @Test
  void equalsAFullReReadAcrossTheSpringForwardDay() throws Exception {
    walk(Instant.parse("2026-03-28T20:00:00Z"), Instant.parse("2026-03-30T01:00:00Z"), 4001L);
  }

  private void walk(Instant from, Instant to, long seed) throws Exception {
    Random random = new Random(seed);
    QuotaSource source = source();
    try (Connection c = db.connect()) {
      for (int i = 0; i < 600; i++) {
        randomRow(c, random, from.minus(Duration.ofMinutes(random.nextInt(35 * 24 * 60))));
      }
      Instant now = from;
      int refreshes = 0;
      int backwards = 0;
      int late = 0;
      while (now.isBefore(to)) {
        Instant previous = now;
        boolean veryLate = false;
        int dice = refreshes == 10 ? 0 : refreshes == 20 ? 6 : random.nextInt(100);
        if (dice < 6) {
          now = now.minus(Duration.ofMinutes(1 + random.nextInt(150)));
          backwards++;
        } else if (dice < 11) {
          randomRow(c, random, now.minus(Duration.ofMinutes(6 + random.nextInt(3 * 24 * 60))));
          now = now.plus(Duration.ofMinutes(61 + random.nextInt(30)));
          veryLate = true;
          late++;
        } else {
          now = now.plus(Duration.ofSeconds(15 + random.nextInt(40 * 60)));
        }
        int rows = random.nextInt(8);
        for (int i = 0; i < rows && !veryLate; i++) {
          Instant lower = previous.isBefore(now) ? previous : now;
          Instant written = lower.plusMillis((long) (random.nextDouble() * Duration.between(lower, now).toMillis()));
          randomRow(c, random, written.minusMillis((long) (random.nextDouble() * GRACE.toMillis())));
        }
        assertEqualsFullReRead(refresh(source, now), now);
        refreshes++;
      }
      assertTrue(refreshes > 40 && backwards > 0 && late > 0,
          "the walk did what it is for: " + refreshes + " refreshes, " + backwards + " clock jumps back, " + late + " very late rows");
    }
  }

  /** Every quota's usage against one query over its whole window. */
  private void assertEqualsFullReRead(QuotaReport report, Instant now) throws SQLException {
    for (QuotaUsage usage : report.usages()) {
      QuotaDefinition q = usage.quota();
      QuotaWindow.Bounds bounds = q.window().at(now, ROME);
      WindowUsageQuery query = new WindowUsageQuery("external_api", List.of(q.provider().label()), 30);
      WindowUsage full = database.readOnly(c -> query.run(c, bounds.start(), bounds.end(),
          new RejectedCounting(new RejectedRows(), Set.of(), false)));
      assertEquals(full.usageOf(q), usage.usage(), q.provider().id() + "/" + q.id() + " at " + now);
    }
  }

  private static void assertUsage(QuotaReport report, String quota, double expected) {
    assertUsage(report, quota, expected, quota);
  }

  private static void assertUsage(QuotaReport report, String quota, double expected, String message) {
    QuotaUsage usage = report.usages().stream()
        .filter(u -> u.quota().provider().id().equals("test_api") && u.quota().id().equals(quota)).findFirst().orElseThrow();
    assertEquals(expected, usage.usage(), message);
  }

  private static Map<String, Integer> counts(List<String> spans) {
    Map<String, Integer> counts = new HashMap<>();
    spans.forEach(s -> counts.merge(s, 1, Integer::sum));
    return counts;
  }

  private void calls(int n, String label, Double value, Instant at) throws SQLException {
    try (Connection c = db.connect()) {
      for (int i = 0; i < n; i++) {
        insert(c, label, "chat", value, at, "external_api", false);
      }
    }
  }

  /** One TelemetryEvent row; some have no label, bad values, another category or are test data. */
  private static void randomRow(Connection c, Random random, Instant at) throws SQLException {
    int kind = random.nextInt(100);
    String label = kind < 60 ? "test_api" : kind < 90 ? "other_api" : null;
    int v = random.nextInt(30);
    Double value = v == 0 ? null : v == 1 ? 0.0 : v == 2 ? -2.0 : v == 3 ? Double.NaN : random.nextInt(4000) / 8.0;
    insert(c, label, random.nextBoolean() ? "chat" : "search", value, at,
        random.nextInt(25) == 0 ? "navigation" : "external_api", random.nextInt(25) == 0);
  }

  private static void insert(Connection c, String label, String action, Double value, Instant at, String category, boolean test)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, value, metadata, \"sessionId\", \"isTestData\")"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, '{\"success\":true}', 'system', ?)")) {
      String id = "q" + IDS.incrementAndGet();
      s.setString(1, id);
      s.setString(2, "ext_" + id);
      s.setObject(3, LocalDateTime.ofInstant(at, ZoneOffset.UTC));
      s.setString(4, category);
      s.setString(5, action);
      s.setString(6, label);
      s.setObject(7, value, java.sql.Types.DOUBLE);
      s.setBoolean(8, test);
      s.executeUpdate();
    }
  }
}
