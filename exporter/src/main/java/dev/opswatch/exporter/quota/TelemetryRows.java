package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.Timestamps;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The TelemetryEvent rows a quota query reads: one category, some provider labels, a time window;
 * binds {@code :category}, {@code :labels}, {@code :window_start} and {@code :window_end}.
 */
record TelemetryRows(String category, List<String> labels, int timeoutSeconds) {

  TelemetryRows {
    labels = List.copyOf(labels);
  }

  /** The parameters for [start, end), in a map the caller may add its own to. */
  Map<String, Object> values(Connection connection, Instant start, Instant end) throws SQLException {
    Map<String, Object> values = new HashMap<>();
    values.put("category", category);
    values.put("window_start", Timestamps.utc(start));
    values.put("window_end", Timestamps.utc(end));
    values.put("labels", NamedStatements.textArray(connection, labels));
    return values;
  }
}
