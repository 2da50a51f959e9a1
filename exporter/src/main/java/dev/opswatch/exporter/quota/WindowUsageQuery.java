package dev.opswatch.exporter.quota;

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
import java.util.List;
import java.util.Map;

/**
 * One window's external API calls of its quotas' provider labels, per label and action, in one
 * query for every quota of that window. Test data is left out. Values that are negative or not
 * finite are left out of the units (a call with a bad value still counts as a call) and counted as
 * rejected as {@link RejectedCounting} says; rows without a label are read only when it counts them.
 */
final class WindowUsageQuery {
  // The NULL arm widens the scan beyond the window's labels, so only the window counting those rows has it.
  private static final String OWN = "label = ANY(:labels)";
  private static final String WITH_NULL = "(label IS NULL OR label = ANY(:labels))";
  private static final NamedSql OWN_LABELS = sql("", OWN);
  private static final NamedSql WITH_NULL_LABEL = sql("", WITH_NULL);
  // Rows are UTC (Prisma), so date_trunc gives the UTC hours that RollingHoursUsage keeps.
  private static final String HOUR = "date_trunc('hour', \"timestamp\")";
  private static final NamedSql OWN_LABELS_BY_HOUR = sql(HOUR, OWN);
  private static final NamedSql WITH_NULL_LABEL_BY_HOUR = sql(HOUR, WITH_NULL);

  private static NamedSql sql(String hour, String labelFilter) {
    String grouped = hour.isEmpty() ? "" : hour + " AS hour, ";
    return NamedSql.parse("""
        SELECT %slabel, action,
               COUNT(*) AS calls,
               COALESCE(SUM(CASE WHEN value IS NULL OR value = 0 THEN 1 ELSE value END)
                          FILTER (WHERE value IS NULL OR (value >= 0 AND value < 'Infinity')), 0) AS units,
               COUNT(*) FILTER (WHERE value < 0 AND value > '-Infinity') AS negative_values,
               COUNT(*) FILTER (WHERE value IN ('NaN', 'Infinity', '-Infinity')) AS not_finite_values
        FROM "TelemetryEvent"
        WHERE category = :category
          AND "timestamp" >= :window_start AND "timestamp" < :window_end
          AND NOT "isTestData"
          AND %s
        GROUP BY %slabel, action
        """.formatted(grouped, labelFilter, hour.isEmpty() ? "" : "hour, "));
  }

  private final TelemetryRows rows;

  WindowUsageQuery(String category, List<String> labels, int timeoutSeconds) {
    this.rows = new TelemetryRows(category, labels, timeoutSeconds);
  }

  /** The usage of the rows in [start, end). */
  WindowUsage run(Connection connection, Instant start, Instant end, RejectedCounting counting) throws SQLException {
    Map<String, Map<String, WindowUsage.Totals>> byLabel = new HashMap<>();
    try (PreparedStatement s = prepare(connection, start, end, counting, false); ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        add(rs, byLabel, counting);
      }
    }
    return new WindowUsage(byLabel);
  }

  /** The usage of the rows in [start, end) per UTC hour, in one query; hours without rows are absent. */
  Map<Instant, WindowUsage> runByHour(Connection connection, Instant start, Instant end, RejectedCounting counting)
      throws SQLException {
    Map<Instant, Map<String, Map<String, WindowUsage.Totals>>> byHour = new HashMap<>();
    try (PreparedStatement s = prepare(connection, start, end, counting, true); ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        Instant hour = Timestamps.instant(rs.getObject("hour", LocalDateTime.class));
        add(rs, byHour.computeIfAbsent(hour, h -> new HashMap<>()), counting);
      }
    }
    Map<Instant, WindowUsage> usage = new HashMap<>();
    byHour.forEach((hour, byLabel) -> usage.put(hour, new WindowUsage(byLabel)));
    return usage;
  }

  private PreparedStatement prepare(Connection connection, Instant start, Instant end, RejectedCounting counting, boolean byHour)
      throws SQLException {
    NamedSql sql = counting.nullLabel()
        ? (byHour ? WITH_NULL_LABEL_BY_HOUR : WITH_NULL_LABEL)
        : (byHour ? OWN_LABELS_BY_HOUR : OWN_LABELS);
    return NamedStatements.prepare(connection, sql, rows.values(connection, start, end), rows.timeoutSeconds());
  }

  private static void add(ResultSet rs, Map<String, Map<String, WindowUsage.Totals>> byLabel, RejectedCounting counting)
      throws SQLException {
    String label = rs.getString("label");
    long calls = rs.getLong("calls");
    if (label == null) {
      counting.nullLabelRows(calls);
      return;
    }
    counting.badValues(label, rs.getLong("negative_values"), rs.getLong("not_finite_values"));
    byLabel.computeIfAbsent(label, l -> new HashMap<>())
        .put(rs.getString("action"), new WindowUsage.Totals(calls, rs.getDouble("units")));
  }
}
