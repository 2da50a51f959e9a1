package dev.opswatch.exporter.incident;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
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
    source = new IncidentSource(config, database);
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
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, \"sessionId\", \"isTestData\")"
            + " VALUES (?, ?, ?, ?, ?, ?, 'system', ?)")) {
      String id = "te-" + UUID.randomUUID();
      s.setString(1, id);
      s.setString(2, id);
      s.setObject(3, LocalDateTime.ofInstant(NOW.minus(ago), ZoneOffset.UTC));
      s.setString(4, category);
      s.setString(5, action);
      s.setString(6, label);
      s.setBoolean(7, testData);
      s.executeUpdate();
    }
  }
}
