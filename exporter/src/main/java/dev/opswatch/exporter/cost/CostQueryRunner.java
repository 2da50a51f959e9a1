package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.config.CostQueryConfig;
import dev.opswatch.exporter.db.Labels;
import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.db.NamedStatements;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.db.Timestamps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs one named cost query for a billing period and reads its rows: one per model, with
 * {@code cost_eur}, optional token columns and {@code rejected_<reason>} counts.
 */
public final class CostQueryRunner {
  /** Model label values per query beyond which the rest become "other": labels stay bounded. */
  static final int MAX_MODELS = 20;
  private static final int MAX_LABEL_LENGTH = 64;

  private final CostQueryConfig query;
  private final NamedSql sql;
  private final double maxRowCostEur;
  private final int clientTimeoutSeconds;

  public CostQueryRunner(CostQueryConfig query, double maxRowCostEur, int clientTimeoutSeconds) {
    this.query = query;
    this.sql = NamedSql.parse(query.sql());
    this.maxRowCostEur = maxRowCostEur;
    this.clientTimeoutSeconds = clientTimeoutSeconds;
  }

  public String name() {
    return query.name();
  }

  /**
   * Cost per model for rows in [from, to); the query's :period_start and :period_end get these bounds.
   * Rows the query or this reader finds invalid are added to {@code rejected}.
   */
  public List<ModelUsage> run(Connection connection, Instant from, Instant to, RejectedRows rejected) throws SQLException {
    try (PreparedStatement statement = NamedStatements.prepare(connection, sql, values(Timestamps.utc(from), Timestamps.utc(to)), clientTimeoutSeconds)) {
      try (ResultSet rs = statement.executeQuery()) {
        Set<String> columns = columns(rs.getMetaData());
        List<ModelUsage> rows = new ArrayList<>();
        while (rs.next()) {
          for (String column : columns) {
            if (column.startsWith("rejected_")) {
              rejected.add(column.substring("rejected_".length()), rs.getLong(column));
            }
          }
          // Rows above max_row_eur are the query's to reject; here only a broken aggregate is.
          double cost = rs.getDouble("cost_eur");
          String problem = RejectedRows.checkAmount(cost, rs.wasNull(), Double.MAX_VALUE);
          if (problem != null) {
            rejected.add(problem, 1);
            continue;
          }
          rows.add(new ModelUsage(
              Labels.utf8OrReplacement(rs.getBytes("model")), cost, tokens(rs, columns, "tokens_input"),
              tokens(rs, columns, "tokens_output"), tokens(rs, columns, "tokens_cached_input")));
        }
        return boundedByModel(rows);
      }
    }
  }

  /** Merges rows per model label; beyond MAX_MODELS labels, the cheapest models share "other". */
  private List<ModelUsage> boundedByModel(List<ModelUsage> rows) {
    rows.sort(Comparator.comparingDouble(ModelUsage::costEur).reversed());
    Map<String, ModelUsage> byModel = new LinkedHashMap<>();
    for (ModelUsage row : rows) {
      String model = modelLabel(row.model(), byModel.keySet());
      byModel.merge(model, new ModelUsage(model, row.costEur(), row.tokensInput(), row.tokensOutput(), row.tokensCachedInput()),
          ModelUsage::plus);
    }
    return new ArrayList<>(byModel.values());
  }

  /** The query's own parameters, then the ones every cost query may use. */
  private Map<String, Object> values(LocalDateTime from, LocalDateTime to) throws SQLException {
    Map<String, Object> values = new HashMap<>();
    query.parameters().forEach((name, v) -> values.put(name, v instanceof Integer n ? Double.valueOf(n) : v));
    values.put("period_start", from);
    values.put("period_end", to);
    values.put("max_row_eur", maxRowCostEur);
    values.put("model", query.model());
    for (String name : sql.parameterNames()) {
      if (!values.containsKey(name)) {
        throw new SQLException("cost query " + query.name() + " uses :" + name + ", which is not set");
      }
    }
    return values;
  }

  private String modelLabel(String raw, Set<String> seen) {
    String model = raw == null || raw.isBlank() ? (query.model().isEmpty() ? "unknown" : query.model()) : raw.strip();
    if (model.length() > MAX_LABEL_LENGTH) {
      model = model.substring(0, MAX_LABEL_LENGTH);
    }
    if (!seen.contains(model) && seen.size() >= MAX_MODELS) {
      return "other";
    }
    return model;
  }

  private static long tokens(ResultSet rs, Set<String> columns, String column) throws SQLException {
    if (!columns.contains(column)) {
      return ModelUsage.NO_TOKENS;
    }
    long value = rs.getLong(column);
    return rs.wasNull() || value < 0 ? ModelUsage.NO_TOKENS : value;
  }

  private static Set<String> columns(ResultSetMetaData meta) throws SQLException {
    Set<String> names = new HashSet<>();
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      names.add(meta.getColumnLabel(i));
    }
    return names;
  }
}
