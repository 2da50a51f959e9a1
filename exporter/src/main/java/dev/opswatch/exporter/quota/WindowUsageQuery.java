package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
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
  private static final NamedSql OWN_LABELS = sql("label = ANY(:labels)");
  private static final NamedSql WITH_NULL_LABEL = sql("(label IS NULL OR label = ANY(:labels))");

  private static NamedSql sql(String labelFilter) {
    return NamedSql.parse("""
        SELECT label, action,
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
        GROUP BY label, action
        """.formatted(labelFilter));
  }

  private final TelemetryRows rows;

  WindowUsageQuery(String category, List<String> labels, int timeoutSeconds) {
    this.rows = new TelemetryRows(category, labels, timeoutSeconds);
  }

  /** The usage of the rows in [start, end). */
  WindowUsage run(Connection connection, Instant start, Instant end, RejectedCounting counting) throws SQLException {
    Map<String, Map<String, WindowUsage.Totals>> byLabel = new HashMap<>();
    Map<String, Object> values = rows.values(connection, start, end);
    try (PreparedStatement s = NamedStatements.prepare(connection, counting.nullLabel() ? WITH_NULL_LABEL : OWN_LABELS,
            values, rows.timeoutSeconds());
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        String label = rs.getString("label");
        long calls = rs.getLong("calls");
        if (label == null) {
          counting.nullLabelRows(calls);
          continue;
        }
        counting.badValues(label, rs.getLong("negative_values"), rs.getLong("not_finite_values"));
        byLabel.computeIfAbsent(label, l -> new HashMap<>())
            .put(rs.getString("action"), new WindowUsage.Totals(calls, rs.getDouble("units")));
      }
    }
    return new WindowUsage(byLabel);
  }
}
