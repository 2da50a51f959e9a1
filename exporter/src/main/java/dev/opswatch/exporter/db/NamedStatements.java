package dev.opswatch.exporter.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/** Prepares a {@link NamedSql} with every {@code :name} bound from a map, and a client-side timeout. */
public final class NamedStatements {
  private NamedStatements() {}

  /**
   * @param values a value per placeholder name ({@code String}, {@code LocalDateTime}, numbers,
   *     {@code java.sql.Array}); a placeholder without one is a programming error
   */
  public static PreparedStatement prepare(Connection connection, NamedSql sql, Map<String, Object> values, int timeoutSeconds)
      throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql.jdbcSql());
    try {
      statement.setQueryTimeout(timeoutSeconds);
      List<String> names = sql.parameterNames();
      for (int i = 0; i < names.size(); i++) {
        if (!values.containsKey(names.get(i))) {
          throw new IllegalStateException("no value for :" + names.get(i));
        }
        statement.setObject(i + 1, values.get(names.get(i)));
      }
      return statement;
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
  }

  /** A text[] parameter; elements may be null. */
  public static java.sql.Array textArray(Connection connection, List<String> values) throws SQLException {
    return connection.createArrayOf("text", values.toArray());
  }
}
