package dev.opswatch.exporter.incident;

import static dev.opswatch.exporter.testing.SpanRecorder.span;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.SpanRecorder;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Incident counts, unresolved counts, newest times and the recent list from hand-made rows. */
class IncidentSourceIT {
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");

  private static TestDatabase db;
  private static Database database;
  private static ExporterConfig config;
  private static IncidentSource source;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    // The recent list feeds the admin API only, so it is read only when the API has a token.
    config = TestConfigs.forDatabase(db, "opswatch.admin.token = test-admin-token");
    database = new Database(config.database());
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
    db.execute("TRUNCATE \"SafetyEvent\", \"TelemetryEvent\"");
    // A new source per test: one keeps the lookback's whole hours, and every test refreshes at NOW.
    source = new IncidentSource(config, database);
  }

  @Test
  void countsPerSeverityAndBoundedType() throws Exception {
    safety("input_blocked", "info", hoursAgo(1), true);
    safety("input_blocked", "info", hoursAgo(23), true);
    safety("pii_detected", "warning", hoursAgo(2), true);
    safety("escalation_repeated_jailbreak", "alert", hoursAgo(3), true);
    safety("escalation_crisis_detected", "alert", hoursAgo(4), true);
    safety("crisis_detected", "critical", hoursAgo(5), true);
    safety("something_new", "critical", hoursAgo(6), true);
    safety("input_blocked", "info", hoursAgo(25), true);

    Exposition m = Exposition.of(source.refresh(NOW).metrics());
    assertEquals(2, m.value("opswatch_incidents", "severity", "S0", "type", "input_blocked"));
    assertEquals(1, m.value("opswatch_incidents", "severity", "S1", "type", "pii_detected"));
    assertEquals(2, m.value("opswatch_incidents", "severity", "S2", "type", "escalation"));
    assertEquals(1, m.value("opswatch_incidents", "severity", "S3", "type", "crisis_detected"));
    assertEquals(1, m.value("opswatch_incidents", "severity", "S3", "type", "other"));
    assertEquals(0, m.value("opswatch_incidents", "severity", "S3", "type", "input_blocked"), "zero-filled");
    assertEquals(4 * 13, m.series("opswatch_incidents").size(), "4 severities x (11 known types + escalation + other)");
    assertEquals(7, m.series("opswatch_incidents").stream().mapToDouble(k -> m.samples().get(k)).sum());
    assertEquals(86400, m.value("opswatch_incidents_lookback_seconds"));
  }

  @Test
  void unresolvedCountsInTheirOwnWindow() throws Exception {
    safety("input_warned", "warning", hoursAgo(1), false);
    safety("input_warned", "warning", hoursAgo(2), true);
    safety("input_warned", "warning", Duration.ofDays(10), false);
    safety("crisis_detected", "critical", Duration.ofDays(29), false);
    safety("crisis_detected", "critical", Duration.ofDays(31), false);
    safety("input_blocked", "info", hoursAgo(1), true);

    SourceOutput<IncidentReport> output = source.refresh(NOW);
    Exposition m = Exposition.of(output.metrics());
    assertEquals(0, m.value("opswatch_incidents_unresolved", "severity", "S0"));
    assertEquals(2, m.value("opswatch_incidents_unresolved", "severity", "S1"));
    assertEquals(0, m.value("opswatch_incidents_unresolved", "severity", "S2"));
    assertEquals(1, m.value("opswatch_incidents_unresolved", "severity", "S3"));
    // Rows outside the lookback count as unresolved but not as recent incidents.
    assertEquals(2, m.value("opswatch_incidents", "severity", "S1", "type", "input_warned"));
    assertEquals(0, m.value("opswatch_incidents", "severity", "S3", "type", "crisis_detected"));
  }

  /** The lookback and the unresolved rows before it are read apart: a row on the border counts once. */
  @Test
  void everyRowCountsOnceWhicheverWindowIsLonger() throws Exception {
    safety("input_warned", "warning", Duration.ofHours(24), false); // exactly at the lookback's start
    safety("input_warned", "warning", Duration.ofHours(24).plusSeconds(1), false);
    safety("input_warned", "warning", Duration.ofMinutes(30), false);
    safety("input_blocked", "high", Duration.ofHours(24), false);
    safety("input_blocked", "high", Duration.ofDays(2), false);
    SourceOutput<IncidentReport> longUnresolved = source.refresh(NOW);
    Exposition m = Exposition.of(longUnresolved.metrics());
    assertEquals(2, m.value("opswatch_incidents", "severity", "S1", "type", "input_warned"));
    assertEquals(3, m.value("opswatch_incidents_unresolved", "severity", "S1"));
    assertEquals(Map.of(RejectedRows.UNKNOWN_SEVERITY, 2L), longUnresolved.rejectedRows(), "once each, in either part");

    IncidentSource shortUnresolved = new IncidentSource(
        TestConfigs.forDatabase(db, "opswatch.incidents.unresolved-window = 1h"), database);
    SourceOutput<IncidentReport> output = shortUnresolved.refresh(NOW);
    Exposition s = Exposition.of(output.metrics());
    assertEquals(2, s.value("opswatch_incidents", "severity", "S1", "type", "input_warned"));
    assertEquals(1, s.value("opswatch_incidents_unresolved", "severity", "S1"), "only the last hour's");
    assertEquals(Map.of(RejectedRows.UNKNOWN_SEVERITY, 1L), output.rejectedRows(), "the lookback's alone");
  }

  @Test
  void newestPerSeverityAndAbsentWithoutAny() throws Exception {
    safety("input_blocked", "info", hoursAgo(30), true);
    safety("input_blocked", "info", hoursAgo(3), true);
    safety("crisis_detected", "critical", Duration.ofDays(40), true);
    safety("crisis_detected", "critical", Duration.ofMinutes(-5), true);

    Exposition m = Exposition.of(source.refresh(NOW).metrics());
    assertEquals(NOW.minus(hoursAgo(3)).getEpochSecond(), m.value("opswatch_incident_last_timestamp_seconds", "severity", "S0"));
    assertEquals(NOW.minus(Duration.ofDays(40)).getEpochSecond(), m.value("opswatch_incident_last_timestamp_seconds", "severity", "S3"),
        "a row after now (clock skew) is not the newest yet");
    assertTrue(m.find("opswatch_incident_last_timestamp_seconds", "severity", "S1").isEmpty());
  }

  @Test
  void unknownSeveritiesAreRejectedOnceAndNeverFail() throws Exception {
    safety("input_blocked", "high", hoursAgo(1), false);
    safety("input_blocked", "Critical", hoursAgo(2), true);
    safety("input_blocked", "", Duration.ofDays(3), false);
    safety("input_blocked", "info", hoursAgo(1), true);

    SourceOutput<IncidentReport> output = assertDoesNotThrow(() -> source.refresh(NOW));
    assertEquals(Map.of(RejectedRows.UNKNOWN_SEVERITY, 3L), output.rejectedRows());
    Exposition m = Exposition.of(output.metrics());
    assertEquals(1, m.series("opswatch_incidents").stream().mapToDouble(k -> m.samples().get(k)).sum());
    IncidentReport report = output.payload();
    assertEquals(1, report.recent().size(), "unknown severities are not listed either");
  }

  @Test
  void telemetryCategoriesWithTheirSeverities() throws Exception {
    telemetry("safety_incident", "crisis_escalated", null, hoursAgo(1), false);
    telemetry("circuit_breaker", "opened", "azure_openai", hoursAgo(2), false);
    telemetry("circuit_breaker", "opened", "azure_openai", hoursAgo(3), true);
    telemetry("external_api", "chat_completion_error", "azure_openai", hoursAgo(1), false);
    telemetry("external_api", "Upload_FAILED", "google_drive", hoursAgo(1), false);
    telemetry("external_api", "chat_completion", "azure_openai", hoursAgo(1), false);
    telemetry("circuit_breaker", "opened", "azure_openai", hoursAgo(25), false);
    telemetry("navigation", "error_page", null, hoursAgo(1), false);

    Exposition m = Exposition.of(source.refresh(NOW).metrics());
    assertEquals(1, m.value("opswatch_telemetry_incidents", "category", "safety_incident", "severity", "S3"));
    assertEquals(1, m.value("opswatch_telemetry_incidents", "category", "circuit_breaker", "severity", "S1"));
    assertEquals(2, m.value("opswatch_telemetry_incidents", "category", "external_api", "severity", "S1"));
    assertEquals(3, m.series("opswatch_telemetry_incidents").size());
  }

  @Test
  void recentListNewestFirstBoundedAndWithoutFreeText() throws Exception {
    for (int i = 1; i <= 25; i++) {
      safety("input_blocked", "info", Duration.ofMinutes(30L * i), true);
    }
    safety("escalation_crisis_detected", "critical", Duration.ofMinutes(10), false);
    telemetry("external_api", "chat_completion_error", "azure_openai", Duration.ofMinutes(5), false);
    db.execute("UPDATE \"SafetyEvent\" SET category = 'free text with spaces' WHERE type = 'escalation_crisis_detected'");

    IncidentReport report = source.refresh(NOW).payload();
    List<RecentIncident> recent = report.recent();
    assertEquals(20, recent.size());
    for (int i = 1; i < recent.size(); i++) {
      assertFalse(recent.get(i).timestamp().isAfter(recent.get(i - 1).timestamp()), "newest first");
    }
    RecentIncident first = recent.get(0);
    assertEquals("telemetry_event", first.source());
    assertEquals("external_api", first.type());
    assertEquals("chat_completion_error", first.action());
    assertEquals("azure_openai", first.label());
    assertEquals(Severity.S1, first.severity());
    RecentIncident second = recent.get(1);
    assertEquals("safety_event", second.source());
    assertEquals("escalation_crisis_detected", second.type());
    assertEquals(Severity.S3, second.severity());
    assertEquals("other", second.label(), "a label that is not an identifier is never shown");
    assertTrue(recent.stream().allMatch(r -> r.timestamp().isAfter(NOW.minus(Duration.ofHours(24)))));
    assertFalse(report.toString().contains("snippet"), "the snippet column is never read");
  }

  @Test
  void withoutTheAdminApiTheRecentListIsNotRead() throws Exception {
    safety("escalation_crisis_detected", "critical", Duration.ofMinutes(10), false);
    ExporterConfig noAdmin = TestConfigs.forDatabase(db, "");
    IncidentSource withoutAdmin = new IncidentSource(noAdmin, database);
    SourceOutput<IncidentReport> out = withoutAdmin.refresh(NOW);
    assertEquals(List.of(), out.payload().recent());
    assertEquals(1, Exposition.of(out.metrics()).value("opswatch_incidents", "severity", "S3", "type", "escalation"));
    assertEquals(1, source.refresh(NOW).payload().recent().size());
  }

  @Test
  void lookbackIsConfigurable() throws Exception {
    ExporterConfig hour = TestConfigs.forDatabase(db, "opswatch.incidents.lookback = 1h");
    IncidentSource shortLookback = new IncidentSource(hour, database);
    safety("input_blocked", "info", Duration.ofMinutes(30), true);
    safety("input_blocked", "info", Duration.ofMinutes(90), true);
    Exposition m = Exposition.of(shortLookback.refresh(NOW).metrics());
    assertEquals(1, m.value("opswatch_incidents", "severity", "S0", "type", "input_blocked"));
    assertEquals(3600, m.value("opswatch_incidents_lookback_seconds"));
  }

  /**
   * The 24h lookback keeps its whole UTC hours: the first refresh reads them in one grouped query,
   * later ones only the two partial hours at the ends, until the hourly whole re-read.
   */
  @Test
  void theLookbackKeepsWholeHoursAndARefreshReadsItsTwoPartialHours() throws Exception {
    SpanRecorder recorder = new SpanRecorder();
    Instant first = Instant.parse("2026-03-16T10:20:00Z");
    read(source, recorder, first);
    String wholeHours = span(Instant.parse("2026-03-15T11:00:00Z"), Instant.parse("2026-03-16T10:00:00Z"));
    assertTrue(recorder.take().contains(wholeHours), "the 23 whole hours in one query");
    Instant steady = first.plusSeconds(15);
    read(source, recorder, steady);
    List<String> spans = recorder.take();
    assertFalse(spans.contains(wholeHours), "kept, not read again: " + spans);
    assertTrue(spans.contains(span(steady.minus(Duration.ofHours(24)), Instant.parse("2026-03-15T11:00:00Z"))), "first partial hour " + spans);
    assertTrue(spans.contains(span(Instant.parse("2026-03-16T10:00:00Z"), steady)), "the open hour " + spans);
    read(source, recorder, Instant.parse("2026-03-16T11:05:00Z"));
    assertTrue(recorder.take().contains(span(Instant.parse("2026-03-16T10:00:00Z"), Instant.parse("2026-03-16T11:00:00Z"))),
        "the newly closed hour alone");
    read(source, recorder, first.plus(Duration.ofHours(1)));
    assertTrue(recorder.take().contains(span(Instant.parse("2026-03-15T12:00:00Z"), Instant.parse("2026-03-16T11:00:00Z"))),
        "every hour again after closed-days-refresh (1h)");
  }

  @Test
  void aRowUpToTheGraceLateCountsAtTheNextRefreshALaterOneAtTheNextWholeReRead() throws Exception {
    Instant first = Instant.parse("2026-03-16T10:20:00Z");
    telemetryAt("circuit_breaker", "opened", "azure_openai", Instant.parse("2026-03-16T09:30:00Z"), false);
    assertEquals(1, breakerIncidents(first));
    breakerIncidents(Instant.parse("2026-03-16T11:01:00Z")); // the 10:00 hour is within its grace: not kept yet
    telemetryAt("circuit_breaker", "opened", "azure_openai", Instant.parse("2026-03-16T10:58:00Z"), false); // written 11:02
    assertEquals(2, breakerIncidents(Instant.parse("2026-03-16T11:02:00Z")), "4 minutes late: within the grace");
    breakerIncidents(Instant.parse("2026-03-16T11:06:00Z")); // keeps the 10:00 hour
    telemetryAt("circuit_breaker", "opened", "azure_openai", Instant.parse("2026-03-16T10:50:00Z"), false); // written 11:10
    assertEquals(2, breakerIncidents(Instant.parse("2026-03-16T11:10:00Z")), "20 minutes late: not until the re-read");
    assertEquals(3, breakerIncidents(first.plus(Duration.ofHours(1))), "counted at the hourly whole re-read");
  }

  /**
   * A clock that was ahead kept hours that had not happened yet; once it goes back, every hour is
   * read again, so rows written since in those hours count.
   */
  @Test
  void aClockGoingBackReadsEveryHourAgain() throws Exception {
    assertEquals(0, breakerIncidents(Instant.parse("2026-03-16T12:06:00Z"))); // two hours ahead: keeps up to 11:00
    telemetryAt("circuit_breaker", "opened", "azure_openai", Instant.parse("2026-03-16T09:30:00Z"), false);
    assertEquals(1, breakerIncidents(Instant.parse("2026-03-16T10:10:00Z")), "the 09:00 hour read again");
  }

  /**
   * Seeded random walks: refreshes 15 s to 40 min apart, the clock going back, rows up to the
   * grace late and rows far later followed by a jump past the re-read, across a day and a month
   * end. Each count equals one query over the whole lookback.
   */
  @Test
  void equalsAWholeReadThroughClockJumpsLateRowsAndAMonthEnd() throws Exception {
    Random random = new Random(5001L);
    TelemetryIncidentQuery whole = new TelemetryIncidentQuery(config.incidents().telemetryCategories(), 30);
    Instant from = Instant.parse("2026-10-31T18:00:00Z");
    for (int i = 0; i < 300; i++) {
      randomIncident(random, from.minus(Duration.ofMinutes(random.nextInt(30 * 60))));
    }
    Instant now = from;
    int refreshes = 0;
    int backwards = 0;
    int late = 0;
    while (now.isBefore(Instant.parse("2026-11-01T10:00:00Z"))) {
      Instant previous = now;
      int dice = refreshes == 10 ? 0 : refreshes == 20 ? 7 : random.nextInt(100);
      boolean veryLate = false;
      if (dice < 6) {
        now = now.minus(Duration.ofMinutes(1 + random.nextInt(150)));
        backwards++;
      } else if (dice < 11) {
        randomIncident(random, now.minus(Duration.ofMinutes(6 + random.nextInt(20 * 60))));
        now = now.plus(Duration.ofMinutes(61 + random.nextInt(30)));
        veryLate = true;
        late++;
      } else {
        now = now.plus(Duration.ofSeconds(15 + random.nextInt(40 * 60)));
      }
      for (int i = random.nextInt(6); i > 0 && !veryLate; i--) {
        Instant lower = previous.isBefore(now) ? previous : now;
        Instant written = lower.plusMillis((long) (random.nextDouble() * Duration.between(lower, now).toMillis()));
        randomIncident(random, written.minusMillis((long) (random.nextDouble() * Duration.ofMinutes(5).toMillis())));
      }
      Instant at = now;
      Map<TelemetryCategory, Long> expected = database.readOnly(c -> whole.run(c, at.minus(Duration.ofHours(24)), at));
      assertEquals(expected, read(source, new SpanRecorder(), at).telemetry(), "at " + at);
      refreshes++;
    }
    assertTrue(refreshes > 30 && backwards > 0 && late > 0,
        "the walk did what it is for: " + refreshes + " refreshes, " + backwards + " clock jumps back, " + late + " very late rows");
  }

  private static IncidentReport read(IncidentSource source, SpanRecorder recorder, Instant now) throws SQLException {
    return database.readOnly(c -> source.read(recorder.wrap(c), now, new RejectedRows()));
  }

  private long breakerIncidents(Instant now) throws SQLException {
    return read(source, new SpanRecorder(), now).telemetry().entrySet().stream()
        .filter(e -> e.getKey().category().equals("circuit_breaker")).mapToLong(Map.Entry::getValue).sum();
  }

  /** An incident row or not: categories counted or not, actions that match or not, some test data. */
  private static void randomIncident(Random random, Instant at) throws SQLException {
    String[] categories = {"safety_incident", "circuit_breaker", "external_api", "external_api", "navigation"};
    String[] actions = {"opened", "chat_completion_error", "upload_failed", "chat_completion"};
    telemetryAt(categories[random.nextInt(categories.length)], actions[random.nextInt(actions.length)], "azure_openai", at,
        random.nextInt(20) == 0);
  }

  private static Duration hoursAgo(int hours) {
    return Duration.ofHours(hours);
  }

  private static void safety(String type, String severity, Duration ago, boolean resolved) throws SQLException {
    Instant at = NOW.minus(ago);
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"SafetyEvent\" (id, \"userId\", type, severity, \"timestamp\", \"resolvedAt\", category, \"contentSnippet\")"
            + " VALUES (?, 'user-1', ?, ?, ?, ?, 'content', 'a snippet with personal text')")) {
      s.setString(1, "se-" + UUID.randomUUID());
      s.setString(2, type);
      s.setString(3, severity);
      s.setObject(4, LocalDateTime.ofInstant(at, ZoneOffset.UTC));
      s.setObject(5, resolved ? LocalDateTime.ofInstant(at.plusSeconds(60), ZoneOffset.UTC) : null);
      s.executeUpdate();
    }
  }

  private static void telemetry(String category, String action, String label, Duration ago, boolean testData) throws SQLException {
    telemetryAt(category, action, label, NOW.minus(ago), testData);
  }

  private static void telemetryAt(String category, String action, String label, Instant at, boolean testData) throws SQLException {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, \"sessionId\", \"isTestData\")"
            + " VALUES (?, ?, ?, ?, ?, ?, 'system', ?)")) {
      String id = "te-" + UUID.randomUUID();
      s.setString(1, id);
      s.setString(2, id);
      s.setObject(3, LocalDateTime.ofInstant(at, ZoneOffset.UTC));
      s.setString(4, category);
      s.setString(5, action);
      s.setString(6, label);
      s.setBoolean(7, testData);
      s.executeUpdate();
    }
  }
}
