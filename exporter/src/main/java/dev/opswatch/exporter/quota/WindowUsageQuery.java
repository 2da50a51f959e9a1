package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.RejectedRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One window's external API calls, per provider label and action, in one query for every quota
 * of that window. Test data is left out. Rows without a label, and values that are negative or not
 * finite, are counted as rejected; a call with a bad value still counts as a call.
 */
final class WindowUsageQuery {
  private static final NamedSql SQL = NamedSql.parse("""
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
        AND (label IS NULL OR label = ANY(:labels))
      GROUP BY label, action
      """);

  private final String category;
  private final List<String> labels;
  private final int timeoutSeconds;

  WindowUsageQuery(String category, List<String> labels, int timeoutSeconds) {
    this.category = category;
    this.labels = List.copyOf(labels);
    this.timeoutSeconds = timeoutSeconds;
  }

  WindowUsage run(Connection connection, QuotaWindow.Bounds bounds, RejectedRows rejected) throws SQLException {
    Map<String, Map<String, WindowUsage.Totals>> byLabel = new HashMap<>();
    Map<String, Object> values = Map.of(
        "category", category,
        "window_start", bounds.startUtc(),
        "window_end", bounds.endUtc(),
        "labels", NamedStatements.textArray(connection, labels));
    try (PreparedStatement s = NamedStatements.prepare(connection, SQL, values, timeoutSeconds);
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        String label = rs.getString("label");
        long calls = rs.getLong("calls");
        if (label == null) {
          rejected.add(RejectedRows.NULL_LABEL, calls);
          continue;
        }
        rejected.add(RejectedRows.NEGATIVE_VALUE, rs.getLong("negative_values"));
        rejected.add(RejectedRows.NOT_FINITE, rs.getLong("not_finite_values"));
        byLabel.computeIfAbsent(label, l -> new HashMap<>())
            .put(rs.getString("action"), new WindowUsage.Totals(calls, rs.getDouble("units")));
      }
    }
    return new WindowUsage(byLabel);
  }
}
