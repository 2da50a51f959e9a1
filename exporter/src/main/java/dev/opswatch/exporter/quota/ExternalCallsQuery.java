package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.RejectedRows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls and failed calls per provider in the error window. Metadata the database can safely cast is
 * judged in SQL; the rest (rare: nested JSON, or not JSON at all) is fetched and judged by
 * {@link CallMetadata}, and invalid metadata is counted as {@code bad_metadata}.
 */
final class ExternalCallsQuery {
  private static final Logger log = LoggerFactory.getLogger(ExternalCallsQuery.class);
  /** Unusual metadata rows read in Java per refresh; more are counted as successful calls, unread. */
  static final int MAX_UNUSUAL_ROWS = 1000;
  /** Longer metadata is not fetched: the app writes ~60 bytes. */
  static final int MAX_METADATA_LENGTH = 8192;

  private static final String ROWS = """
      FROM "TelemetryEvent"
      WHERE category = :category
        AND "timestamp" >= :window_start AND "timestamp" < :window_end
        AND NOT "isTestData"
        AND label = ANY(:labels)
      """;
  // The plain test first, and the full one only where it fails: nearly every row is plain. A CASE,
  // because PostgreSQL does not promise to evaluate the arms of an OR in order ("When it is
  // essential to force evaluation order, a CASE construct can be used", Expression Evaluation Rules).
  private static final String CASTABLE = "CASE WHEN " + CallMetadata.PLAIN_SQL
      + " THEN true ELSE metadata ~ :flat_object AND NOT " + CallMetadata.UNCASTABLE_ESCAPE_SQL + " END";
  // The regular expressions cost more than the rest of the query (the full one ~30 us a row, the
  // plain one ~4): they are matched once per row, and OFFSET 0 keeps the planner from inlining the
  // inner query, which would match them again in the CASE.
  private static final NamedSql COUNTS = NamedSql.parse("""
      SELECT label,
             COUNT(*) AS calls,
             COUNT(*) FILTER (WHERE success = 'false') AS failures,
             COUNT(*) FILTER (WHERE NOT castable) AS unusual
      FROM (
        SELECT label, castable,
               CASE WHEN castable AND metadata IS NOT NULL THEN metadata::jsonb ->> 'success' END AS success
        FROM (
          SELECT label, metadata, metadata IS NULL OR (%1$s) AS castable
      """.formatted(CASTABLE) + ROWS + """
          OFFSET 0
        ) AS matched
      ) AS calls
      GROUP BY label
      """);
  private static final NamedSql UNUSUAL = NamedSql.parse("""
      SELECT label, CASE WHEN length(metadata) <= :max_length THEN metadata END AS metadata,
             %1$s AS uncastable
      """.formatted(CallMetadata.UNCASTABLE_ESCAPE_SQL) + ROWS + """
        AND metadata IS NOT NULL AND NOT (%1$s)
      LIMIT :max_rows
      """.formatted(CASTABLE));

  private final List<QuotaProvider> providers;
  private final TelemetryRows rows;

  ExternalCallsQuery(String category, List<QuotaProvider> providers, int timeoutSeconds) {
    this.providers = List.copyOf(providers);
    this.rows = new TelemetryRows(category, providers.stream().map(QuotaProvider::label).toList(), timeoutSeconds);
  }

  List<CallStats> run(Connection connection, QuotaWindow.Bounds window, RejectedRows rejected) throws SQLException {
    Map<String, long[]> byLabel = new HashMap<>();
    long unusual = 0;
    try (PreparedStatement s = prepare(connection, COUNTS, window); ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        byLabel.put(rs.getString("label"), new long[] {rs.getLong("calls"), rs.getLong("failures")});
        unusual += rs.getLong("unusual");
      }
    }
    if (unusual > 0) {
      judgeUnusual(connection, window, byLabel, rejected, unusual);
    }
    List<CallStats> stats = new ArrayList<>();
    for (QuotaProvider p : providers) {
      long[] counts = byLabel.getOrDefault(p.label(), new long[2]);
      stats.add(new CallStats(p, counts[0], counts[1]));
    }
    return stats;
  }

  private void judgeUnusual(
      Connection connection, QuotaWindow.Bounds window, Map<String, long[]> byLabel, RejectedRows rejected, long expected)
      throws SQLException {
    long read = 0;
    try (PreparedStatement s = prepare(connection, UNUSUAL, window); ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        read++;
        // NULL here is metadata too long to fetch: not what the app writes. Uncastable: see CallMetadata.
        String metadata = rs.getString("metadata");
        CallMetadata.Verdict verdict =
            metadata == null || rs.getBoolean("uncastable") ? CallMetadata.Verdict.BAD : CallMetadata.read(metadata);
        if (verdict == CallMetadata.Verdict.BAD) {
          rejected.add(RejectedRows.BAD_METADATA, 1);
        } else if (verdict == CallMetadata.Verdict.FAILED) {
          byLabel.computeIfAbsent(rs.getString("label"), l -> new long[2])[1]++;
        }
      }
    }
    if (read < expected) {
      log.warn("{} external calls have unusual metadata; only {} were read, the rest count as successful", expected, read);
    }
  }

  private PreparedStatement prepare(Connection connection, NamedSql sql, QuotaWindow.Bounds window) throws SQLException {
    Map<String, Object> values = rows.values(connection, window.start(), window.end());
    values.put("plain_object", CallMetadata.PLAIN_OBJECT_REGEX);
    values.put("flat_object", CallMetadata.FLAT_OBJECT_REGEX);
    values.put("non_ascii_escape", CallMetadata.NON_ASCII_ESCAPE_REGEX);
    values.put("max_length", MAX_METADATA_LENGTH);
    values.put("max_rows", MAX_UNUSUAL_ROWS);
    return NamedStatements.prepare(connection, sql, values, rows.timeoutSeconds());
  }
}
