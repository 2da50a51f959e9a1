package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.Timestamps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The newest incidents of both tables, newest first. Only identifier-like columns are read: never
 * contentSnippet, resolution or metadata, which may hold what a child typed.
 */
final class RecentIncidentQuery {
  private static final NamedSql SQL = NamedSql.parse("""
      SELECT * FROM (
        (SELECT 'safety_event' AS source, id, "timestamp", type AS kind, severity, category AS label, NULL AS action
         FROM "SafetyEvent"
         WHERE "timestamp" >= :since AND "timestamp" < :until AND severity IN ('info', 'warning', 'alert', 'critical')
         ORDER BY "timestamp" DESC, id DESC
         LIMIT :limit)
        UNION ALL
        (SELECT 'telemetry_event', t.id, t."timestamp", t.category, NULL, t.label, t.action
      """ + TelemetryIncidentQuery.INCIDENT_ROWS + """
         ORDER BY t."timestamp" DESC, t.id DESC
         LIMIT :limit)
      ) AS recent
      ORDER BY "timestamp" DESC, id DESC
      LIMIT :limit
      """);
  /** Ids, types, actions and labels are code-written identifiers; anything else is not shown. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_.:/-]{1,64}");

  private final IncidentConfig config;
  private final int timeoutSeconds;

  RecentIncidentQuery(IncidentConfig config, int timeoutSeconds) {
    this.config = config;
    this.timeoutSeconds = timeoutSeconds;
  }

  List<RecentIncident> run(Connection connection, Instant now) throws SQLException {
    Map<String, Object> values = TelemetryIncidentQuery.values(
        connection, config.telemetryCategories(), now.minus(config.recentWindow()), now);
    values.put("limit", config.recentLimit());
    List<RecentIncident> incidents = new ArrayList<>();
    try (PreparedStatement s = NamedStatements.prepare(connection, SQL, values, timeoutSeconds);
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        String source = rs.getString("source");
        String kind = rs.getString("kind");
        Severity severity = source.equals("safety_event")
            ? Severity.ofSafetyEvent(rs.getString("severity")).orElseThrow()
            : severityOfCategory(kind);
        incidents.add(new RecentIncident(
            identifier(rs.getString("id")),
            Timestamps.instant(rs.getObject("timestamp", LocalDateTime.class)),
            source,
            identifier(kind),
            identifier(rs.getString("action")),
            severity,
            identifier(rs.getString("label"))));
      }
    }
    return incidents;
  }

  private Severity severityOfCategory(String category) {
    return config.telemetryCategories().stream()
        .filter(c -> c.category().equals(category))
        .map(TelemetryCategory::severity)
        .findFirst()
        .orElseThrow();
  }

  /** The value if it looks like an identifier, "other" if it does not, null if it is null. */
  static String identifier(String value) {
    if (value == null) {
      return null;
    }
    return IDENTIFIER.matcher(value).matches() ? value : "other";
  }
}
