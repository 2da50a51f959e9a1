package dev.opswatch.exporter.cost;

import static dev.opswatch.exporter.testing.SpanRecorder.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.OptionalDouble;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The costs source keeps today's closed hours (Europe/Rome billing): which spans a refresh reads, how
 * late a row may be written and still count, and that every figure equals a full re-read of the same
 * rows (one query over the whole span, as before any caching) across hours, days, a month, a clock
 * going back and both daylight saving changes. Amounts are multiples of 1/64 EUR, so sums are exact
 * in any order and "equal" means equal.
 */
class ClosedHoursCostIT {
  private static final ZoneId ROME = ZoneId.of("Europe/Rome");
  private static final Duration GRACE = Duration.ofMinutes(5);
  private static final String CONFIG = """
      opswatch.billing.time-zone = "Europe/Rome"
      opswatch.sources.costs.closed-days-refresh = 1h
      opswatch.sources.costs.late-row-grace = 5m
      # As the month's past days, so that the walk's very late rows in the closed month count after
      # the same hour as the rest (the 24h default: BillingRolloverIT).
      opswatch.sources.costs.previous-period-refresh = 1h
      opswatch.cost-queries.video_frames.price-per-frame-eur = 0.0625
      """;
  private static final List<String> QUERIES = List.of("text_sessions", "voice", "video_frames");
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final boolean FIRST = true;

  private TestDatabase db;
  private ExporterConfig config;
  private Database database;
  private final SpanRecorder recorder = new SpanRecorder();

  @BeforeEach
  void start() {
    db = TestDatabase.create();
    db.execute("INSERT INTO \"User\" (id) VALUES ('u1')");
    config = TestConfigs.forDatabase(db, CONFIG);
    database = new Database(config.database());
  }

  @AfterEach
  void stop() {
    database.close();
    db.close();
  }

  private CostReport refresh(CostSource source, Instant now) throws SQLException {
    return database.readOnly(c -> source.read(recorder.wrap(c), now, new RejectedRows()));
  }

  @Test
  void aRefreshReadsTheOpenHoursAloneAndEachClosedHourOnce() throws Exception {
    CostSource source = new CostSource(config, database);
    Instant now = Instant.parse("2026-11-16T10:20:00Z"); // 11:20 in Rome
    Instant periodStart = Instant.parse("2026-10-31T23:00:00Z");
    Instant periodEnd = Instant.parse("2026-11-30T23:00:00Z");
    Instant midnight = Instant.parse("2026-11-15T23:00:00Z");
    Instant open = Instant.parse("2026-11-16T10:00:00Z");
    Instant previousStart = Instant.parse("2026-09-30T22:00:00Z");
    refresh(source, now);
    assertEquals(Map.of(
            span(periodStart, midnight), 3,
            span(midnight, open), 3,
            span(open, periodEnd), 3),
        counts(recorder.take()), "the first refresh: past days, today's closed hours, the open rest; not the previous period");
    refresh(source, now.plusSeconds(15));
    assertEquals(Map.of(span(previousStart, periodStart), 3, span(open, periodEnd), 3), counts(recorder.take()),
        "the second refresh reads the previous period");
    refresh(source, now.plusSeconds(30));
    assertEquals(Map.of(span(open, periodEnd), 3), counts(recorder.take()), "a steady refresh reads from the open hour on");
    refresh(source, Instant.parse("2026-11-16T11:04:59Z"));
    assertEquals(Map.of(span(open, periodEnd), 3), counts(recorder.take()), "10:00 UTC is kept only late-row-grace after it ends");
    refresh(source, Instant.parse("2026-11-16T11:05:00Z"));
    Instant nextOpen = Instant.parse("2026-11-16T11:00:00Z");
    assertEquals(Map.of(span(open, nextOpen), 3, span(nextOpen, periodEnd), 3), counts(recorder.take()), "the newly closed hour, once");
    refresh(source, now.plus(Duration.ofHours(1)));
    assertEquals(Map.of(span(periodStart, midnight), 3, span(midnight, nextOpen), 3, span(nextOpen, periodEnd), 3),
        counts(recorder.take()), "closed-days-refresh: all again");
    refresh(source, now.plus(Duration.ofHours(1)).plusSeconds(15));
    assertEquals(Map.of(span(previousStart, periodStart), 3, span(nextOpen, periodEnd), 3), counts(recorder.take()),
        "previous-period-refresh after the previous period was read");
  }

  @Test
  void aRowUpToTheGraceLateCountsAtTheNextRefreshALaterOneAtTheNextWholeReRead() throws Exception {
    CostSource source = new CostSource(config, database);
    Instant first = Instant.parse("2026-11-16T10:20:00Z");
    text(1, Instant.parse("2026-11-16T09:30:00Z"));
    assertEquals(1, textToday(refresh(source, first)));
    // Written at 11:02 for 10:58: 4 minutes late.
    text(2, Instant.parse("2026-11-16T10:58:00Z"));
    assertEquals(3, textToday(refresh(source, Instant.parse("2026-11-16T11:02:00Z"))));
    assertEquals(3, textToday(refresh(source, Instant.parse("2026-11-16T11:06:00Z"))), "10:00 UTC is kept now, with it");
    // Written at 11:10 for 10:50: 20 minutes late, in an hour already kept.
    text(4, Instant.parse("2026-11-16T10:50:00Z"));
    assertEquals(3, textToday(refresh(source, Instant.parse("2026-11-16T11:10:00Z"))), "not before the whole re-read");
    assertEquals(3, textToday(refresh(source, first.plus(Duration.ofMinutes(59)))));
    CostReport reRead = refresh(source, first.plus(Duration.ofHours(1)));
    assertEquals(7, textToday(reRead), "an hour after the last whole read");
    assertEqualsFullReRead(reRead, first.plus(Duration.ofHours(1)));
  }

  @Test
  void aClockGoingBackReadsTheSpansWholeAndStaysExact() throws Exception {
    CostSource source = new CostSource(config, database);
    text(1, Instant.parse("2026-11-16T08:30:00Z"));
    text(2, Instant.parse("2026-11-16T11:30:00Z"));
    refresh(source, Instant.parse("2026-11-16T12:20:00Z"));
    recorder.take();
    Instant back = Instant.parse("2026-11-16T10:40:00Z");
    text(4, Instant.parse("2026-11-16T09:10:00Z"));
    CostReport report = refresh(source, back);
    assertTrue(recorder.take().contains(span(Instant.parse("2026-11-15T23:00:00Z"), Instant.parse("2026-11-16T10:00:00Z"))),
        "today's closed hours read whole");
    assertEquals(7, textToday(report), "the 11:30 row lies after now but in the period, as a full read counts it");
    assertEqualsFullReRead(report, back);
    // Back across midnight, into yesterday.
    Instant yesterday = Instant.parse("2026-11-15T22:30:00Z");
    text(8, Instant.parse("2026-11-15T20:00:00Z"));
    assertEqualsFullReRead(refresh(source, yesterday), yesterday);
    assertEqualsFullReRead(refresh(source, back.plusSeconds(60)), back.plusSeconds(60));
  }

  @Test
  void todayStartsAtMidnightInRomeAndTheMonthAtItsFirst() throws Exception {
    CostSource source = new CostSource(config, database);
    text(1, Instant.parse("2026-10-31T21:30:00Z")); // 22:30 on 31 October in Rome
    text(2, Instant.parse("2026-10-31T22:50:00Z")); // 23:50
    Instant beforeMidnight = Instant.parse("2026-10-31T22:58:00Z");
    CostReport october = refresh(source, beforeMidnight);
    assertEquals(3, textToday(october));
    assertEqualsFullReRead(october, beforeMidnight, FIRST);
    text(4, Instant.parse("2026-10-31T23:00:00Z")); // 00:00 on 1 November in Rome
    Instant afterMidnight = Instant.parse("2026-10-31T23:03:00Z");
    CostReport november = refresh(source, afterMidnight);
    assertEquals(4, textToday(november));
    assertEquals(4, november.providers().get(0).costByQuery().get("text_sessions"));
    assertEquals(OptionalDouble.of(3), november.providers().get(0).previousPeriodEur(), "October, read at once after the rollover");
    assertEqualsFullReRead(november, afterMidnight);
  }

  @Test
  void aRowForTheDayBeforeWrittenJustAfterMidnightCountsOnceTheGraceHasPassed() throws Exception {
    // Midnight between 16 and 17 November in Rome: the month's past days grow by a day.
    assertReadAgainWhenTheGraceHasPassed(Instant.parse("2026-11-16T23:00:00Z"), Instant.parse("2026-10-31T23:00:00Z"),
        report -> report.providers().get(0).monthToDateEur());
  }

  @Test
  void aRowForTheMonthBeforeWrittenJustAfterTheRolloverCountsOnceTheGraceHasPassed() throws Exception {
    // Midnight between October and November in Rome: the previous period becomes October.
    assertReadAgainWhenTheGraceHasPassed(Instant.parse("2026-10-31T23:00:00Z"), Instant.parse("2026-09-30T22:00:00Z"),
        report -> report.providers().get(0).previousPeriodEur().orElseThrow());
  }

  /**
   * The closed span [spanStart, midnight) is read at once after midnight, kept while the grace runs,
   * read once more when it has passed (with the row for 23:59 written at 00:03), and then kept.
   */
  private void assertReadAgainWhenTheGraceHasPassed(Instant midnight, Instant spanStart, ToDoubleFunction<CostReport> figure)
      throws Exception {
    CostSource source = new CostSource(config, database);
    String closed = span(spanStart, midnight);
    refresh(source, midnight.minus(Duration.ofMinutes(10)));
    refresh(source, midnight.minus(Duration.ofMinutes(5))); // the second refresh reads the previous period
    recorder.take();
    CostReport after = refresh(source, midnight.plusSeconds(60));
    assertTrue(recorder.take().contains(closed), "read at once after midnight");
    text(2, midnight.minusSeconds(60));
    CostReport within = refresh(source, midnight.plus(GRACE).minusSeconds(1));
    assertFalse(recorder.take().contains(closed), "kept while the grace runs");
    assertEquals(figure.applyAsDouble(after), figure.applyAsDouble(within));
    CostReport settled = refresh(source, midnight.plus(GRACE));
    assertTrue(recorder.take().contains(closed), "read once more when the grace has passed");
    assertEquals(figure.applyAsDouble(after) + 2, figure.applyAsDouble(settled));
    assertEqualsFullReRead(settled, midnight.plus(GRACE));
    refresh(source, midnight.plus(GRACE).plusSeconds(15));
    assertFalse(recorder.take().contains(closed), "and then kept");
  }

  /** A random walk of the clock with rows written as it goes, compared with a full re-read at every refresh. */
  @Test
  void equalsAFullReReadAcrossTheFallBackDayAndTheMonthEnd() throws Exception {
    walk(Instant.parse("2026-10-24T20:00:00Z"), Instant.parse("2026-10-26T02:00:00Z"), 1001L);
    walk(Instant.parse("2026-10-31T18:00:00Z"), Instant.parse("2026-11-01T08:00:00Z"), 1002L);
  }

  @Test
  void equalsAFullReReadAcrossTheSpringForwardDay() throws Exception {
    walk(Instant.parse("2026-03-28T20:00:00Z"), Instant.parse("2026-03-30T01:00:00Z"), 2001L);
  }

  private void walk(Instant from, Instant to, long seed) throws Exception {
    Random random = new Random(seed);
    try (Connection c = db.connect()) {
      walk(c, random, from, to);
    }
  }

  private void walk(Connection c, Random random, Instant from, Instant to) throws Exception {
    // A month of history before the walk, so that past days and the previous period have rows.
    for (int i = 0; i < 400; i++) {
      randomRow(c, random, from.minus(Duration.ofMinutes(random.nextInt(45 * 24 * 60))));
    }
    CostSource source = new CostSource(config, database);
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
        // A row written long after its hour closed: exact again after the next whole re-read.
        randomRow(c, random, now.minus(Duration.ofMinutes(6 + random.nextInt(3 * 24 * 60))));
        now = now.plus(Duration.ofMinutes(61 + random.nextInt(30)));
        veryLate = true;
        late++;
      } else {
        now = now.plus(Duration.ofSeconds(15 + random.nextInt(40 * 60)));
      }
      // Rows written between the two refreshes, each at most the grace after the moment it records.
      int rows = random.nextInt(6);
      for (int i = 0; i < rows && !veryLate; i++) {
        Instant lower = previous.isBefore(now) ? previous : now;
        Instant written = lower.plusMillis((long) (random.nextDouble() * Duration.between(lower, now).toMillis()));
        randomRow(c, random, written.minusMillis((long) (random.nextDouble() * GRACE.toMillis())));
      }
      CostReport report = refresh(source, now);
      assertEqualsFullReRead(report, now, refreshes == 0);
      refreshes++;
    }
    assertTrue(refreshes > 40 && backwards > 0 && late > 0,
        "the walk did what it is for: " + refreshes + " refreshes, " + backwards + " clock jumps back, " + late + " very late rows");
  }

  private void assertEqualsFullReRead(CostReport report, Instant now) throws SQLException {
    assertEqualsFullReRead(report, now, false);
  }

  /**
   * Every figure of the report against one query per span, as the source read before it kept
   * anything; the previous period is absent in a source's {@code first} refresh, and only there.
   */
  private void assertEqualsFullReRead(CostReport report, Instant now, boolean first) throws SQLException {
    BillingPeriod period = BillingPeriod.containing(now, ROME);
    Instant midnight = period.startOfDay(now);
    ProviderCost azure = report.providers().get(0);
    Map<String, Double> monthByQuery = new TreeMap<>();
    Map<String, ModelUsage> models = new TreeMap<>();
    double today = 0;
    double previous = 0;
    for (String name : QUERIES) {
      CostQueryRunner runner = new CostQueryRunner(config.costQueries().get(name), config.maxRowCostEur(), 30);
      List<ModelUsage> month = database.readOnly(c -> runner.run(c, period.start(), period.end(), new RejectedRows()));
      monthByQuery.put(name, month.stream().mapToDouble(ModelUsage::costEur).sum());
      month.forEach(m -> models.merge(m.model(), m, ModelUsage::plus));
      today += database.readOnly(c -> runner.run(c, midnight, period.end(), new RejectedRows()))
          .stream().mapToDouble(ModelUsage::costEur).sum();
      previous += database.readOnly(c -> runner.run(c, period.previous().start(), period.previous().end(), new RejectedRows()))
          .stream().mapToDouble(ModelUsage::costEur).sum();
    }
    String at = " at " + now;
    assertEquals(monthByQuery, new TreeMap<>(azure.costByQuery()), "month to date per query" + at);
    Map<String, ModelUsage> actualModels = new TreeMap<>();
    azure.models().forEach(m -> actualModels.merge(m.model(), m, ModelUsage::plus));
    assertEquals(models, actualModels, "cost and tokens per model" + at);
    assertEquals(today, azure.todayEur(), "today" + at);
    assertEquals(first ? OptionalDouble.empty() : OptionalDouble.of(previous), azure.previousPeriodEur(), "previous period" + at);
  }

  private static double textToday(CostReport report) {
    return report.providers().get(0).todayEur();
  }

  private static Map<String, Integer> counts(List<String> spans) {
    Map<String, Integer> counts = new HashMap<>();
    spans.forEach(s -> counts.merge(s, 1, Integer::sum));
    return counts;
  }

  private void text(double eur, Instant at) throws SQLException {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO session_metrics (id, \"sessionId\", \"userId\", \"tokensIn\", \"tokensOut\", \"costEur\", \"isTestData\", \"createdAt\", \"updatedAt\")"
            + " VALUES (?, ?, 'u1', 10, 20, ?, false, ?, now())")) {
      String id = "t" + IDS.incrementAndGet();
      s.setString(1, id);
      s.setString(2, id);
      s.setDouble(3, eur);
      s.setObject(4, utc(at));
      s.executeUpdate();
    }
  }

  /** One row of a random table: some of them bad or test data, which every read must leave out alike. */
  private static void randomRow(Connection c, Random random, Instant at) throws SQLException {
    String id = "r" + IDS.incrementAndGet();
    double eur = random.nextInt(640) / 64.0;
    int bad = random.nextInt(40);
    {
      switch (random.nextInt(3)) {
        case 0 -> {
          try (PreparedStatement s = c.prepareStatement(
              "INSERT INTO session_metrics (id, \"sessionId\", \"userId\", \"tokensIn\", \"tokensOut\", \"costEur\", \"isTestData\", \"createdAt\", \"updatedAt\")"
                  + " VALUES (?, ?, 'u1', ?, ?, ?, ?, ?, now())")) {
            s.setString(1, id);
            s.setString(2, id);
            s.setInt(3, random.nextInt(5000));
            s.setInt(4, random.nextInt(5000));
            s.setObject(5, bad == 0 ? null : bad == 1 ? -eur - 1 : eur, java.sql.Types.DOUBLE);
            s.setBoolean(6, bad == 2);
            s.setObject(7, utc(at));
            s.executeUpdate();
          }
        }
        case 1 -> {
          try (PreparedStatement s = c.prepareStatement(
              "INSERT INTO voice_usage_events (id, \"userId\", \"sessionId\", model, \"audioInputTokens\", \"audioOutputTokens\","
                  + " \"textInputTokens\", \"textOutputTokens\", \"cachedInputTokens\", \"costEur\", \"periodDay\", \"periodMonth\","
                  + " \"isTestData\", \"createdAt\") VALUES (?, 'u1', 'vs', ?, ?, ?, ?, ?, ?, ?, 'x', 'x', ?, ?)")) {
            s.setString(1, id);
            s.setString(2, List.of("gpt-realtime", "gpt-realtime-mini", "gpt-4o-mini-tts").get(random.nextInt(3)));
            for (int i = 3; i <= 7; i++) {
              s.setInt(i, random.nextInt(1000));
            }
            s.setObject(8, bad == 0 ? null : eur, java.sql.Types.DOUBLE);
            s.setBoolean(9, bad == 2);
            s.setObject(10, utc(at));
            s.executeUpdate();
          }
        }
        default -> {
          try (PreparedStatement s = c.prepareStatement(
              "INSERT INTO \"VideoVisionUsage\" (id, \"userId\", \"voiceSessionId\", \"framesUsed\", \"periodMonth\", \"createdAt\")"
                  + " VALUES (?, 'u1', 'vs', ?, 'x', ?)")) {
            s.setString(1, id);
            s.setObject(2, bad == 0 ? null : bad == 1 ? -3 : random.nextInt(200), java.sql.Types.INTEGER);
            s.setObject(3, utc(at));
            s.executeUpdate();
          }
        }
      }
    }
  }

  private static LocalDateTime utc(Instant at) {
    return LocalDateTime.ofInstant(at, ZoneOffset.UTC);
  }
}
