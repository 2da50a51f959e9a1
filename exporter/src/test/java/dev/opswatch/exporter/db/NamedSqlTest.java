package dev.opswatch.exporter.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class NamedSqlTest {
  @Test
  void replacesNamedParametersInOrderAndLeavesCastsAndQuotesAlone() {
    NamedSql sql = NamedSql.parse(
        "SELECT metadata::jsonb ->> 'a:b', \"x:y\" FROM t WHERE ts >= :period_start AND ts < :period_end AND c > :max_row_eur OR d = :period_start");
    assertEquals(
        "SELECT metadata::jsonb ->> 'a:b', \"x:y\" FROM t WHERE ts >= ? AND ts < ? AND c > ? OR d = ?", sql.jdbcSql());
    assertEquals(List.of("period_start", "period_end", "max_row_eur", "period_start"), sql.parameterNames());
  }
}
