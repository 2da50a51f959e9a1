package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.closed.RollingHours;
import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.Timestamps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TelemetryEvent rows of the incident categories in the lookback, per category. The categories and
 * their action filters are joined in as two parallel arrays, so the SQL stays fixed.
 */
final class TelemetryIncidentQuery {
  /** The join that selects incident rows; shared with {@link RecentIncidentQuery}. */
  static final String INCIDENT_ROWS = """
      FROM "TelemetryEvent" t
      JOIN unnest(CAST(:categories AS text[]), CAST(:action_patterns AS text[])) AS f(category, action_pattern)
        ON t.category = f.category AND (f.action_pattern IS NULL OR lower(t.action) ~ f.action_pattern)
      WHERE t."timestamp" >= :since AND t."timestamp" < :until AND NOT t."isTestData"
      """;
  private static final NamedSql COUNTS = NamedSql.parse(
      "SELECT t.category, COUNT(*) AS incidents\n" + INCIDENT_ROWS + "GROUP BY t.category\n");
  // Rows are UTC (Prisma), so date_trunc gives the UTC hours that RollingHours keeps.
  private static final NamedSql COUNTS_BY_HOUR = NamedSql.parse(
      "SELECT date_trunc('hour', t.\"timestamp\") AS hour, t.category, COUNT(*) AS incidents\n" + INCIDENT_ROWS
          + "GROUP BY hour, t.category\n");

  private final List<TelemetryCategory> categories;
  private final int timeoutSeconds;

  TelemetryIncidentQuery(List<TelemetryCategory> categories, int timeoutSeconds) {
    this.categories = List.copyOf(categories);
    this.timeoutSeconds = timeoutSeconds;
  }

  /** Incidents per configured category in [since, until), 0 for a category without any. */
  Map<TelemetryCategory, Long> run(Connection connection, Instant since, Instant until) throws SQLException {
    Map<String, Long> byName = new HashMap<>();
    if (!categories.isEmpty()) {
      try (PreparedStatement s = NamedStatements.prepare(connection, COUNTS, values(connection, categories, since, until), timeoutSeconds);
          ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          byName.put(rs.getString("category"), rs.getLong("incidents"));
        }
      }
    }
    return ordered(byName);
  }

  /** The same per UTC hour, in one query; hours without incidents are absent. */
  Map<Instant, Map<TelemetryCategory, Long>> runByHour(Connection connection, Instant since, Instant until) throws SQLException {
    Map<Instant, Map<String, Long>> byHour = new HashMap<>();
    if (!categories.isEmpty()) {
      try (PreparedStatement s = NamedStatements.prepare(connection, COUNTS_BY_HOUR, values(connection, categories, since, until), timeoutSeconds);
          ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          byHour.computeIfAbsent(Timestamps.instant(rs.getObject("hour", LocalDateTime.class)), h -> new HashMap<>())
              .put(rs.getString("category"), rs.getLong("incidents"));
        }
      }
    }
    Map<Instant, Map<TelemetryCategory, Long>> counts = new HashMap<>();
    byHour.forEach((hour, byName) -> counts.put(hour, ordered(byName)));
    return counts;
  }

  /** Every configured category at 0. */
  Map<TelemetryCategory, Long> none() {
    return ordered(Map.of());
  }

  /** The counts of two adjacent spans added up. */
  static Map<TelemetryCategory, Long> plus(Map<TelemetryCategory, Long> a, Map<TelemetryCategory, Long> b) {
    Map<TelemetryCategory, Long> sum = new LinkedHashMap<>(a);
    b.forEach((category, n) -> sum.merge(category, n, Long::sum));
    return sum;
  }

  /** A reader of {@link dev.opswatch.exporter.closed.RollingHours} on {@code connection}. */
  RollingHours.Reader<Map<TelemetryCategory, Long>> reader(Connection connection) {
    return new RollingHours.Reader<>() {
      @Override
      public Map<TelemetryCategory, Long> read(Instant from, Instant to) throws SQLException {
        return run(connection, from, to);
      }

      @Override
      public Map<Instant, Map<TelemetryCategory, Long>> readByHour(Instant from, Instant to) throws SQLException {
        return runByHour(connection, from, to);
      }
    };
  }

  private Map<TelemetryCategory, Long> ordered(Map<String, Long> byName) {
    Map<TelemetryCategory, Long> counts = new LinkedHashMap<>();
    categories.forEach(c -> counts.put(c, byName.getOrDefault(c.category(), 0L)));
    return counts;
  }

  /** Parameters of {@link #INCIDENT_ROWS}. */
  static Map<String, Object> values(Connection connection, List<TelemetryCategory> categories, Instant since, Instant until)
      throws SQLException {
    return new HashMap<>(Map.of(
        "categories", NamedStatements.textArray(connection, categories.stream().map(TelemetryCategory::category).toList()),
        "action_patterns", NamedStatements.textArray(connection, categories.stream().map(TelemetryCategory::actionPattern).toList()),
        "since", Timestamps.utc(since),
        "until", Timestamps.utc(until)));
  }
}
