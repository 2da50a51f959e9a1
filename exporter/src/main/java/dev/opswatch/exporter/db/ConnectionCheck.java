package dev.opswatch.exporter.db;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.refresh.FailureCause;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * {@code --check-config --connect}: one connection with the exporter's real settings, and the
 * server's own answer in one line: who and where on success, or the real cause (authentication,
 * TLS, unknown database, DNS, timeout) on failure. Never the password.
 */
public final class ConnectionCheck {
  /** @param message one line for the operator */
  public record Result(boolean ok, String message) {}

  private ConnectionCheck() {}

  public static Result run(ExporterConfig.Database config) {
    Properties properties = Database.driverProperties(config);
    if (!config.url().user().isEmpty()) {
      properties.setProperty("user", config.url().user());
    }
    if (!config.url().password().isEmpty()) {
      properties.setProperty("password", config.url().password());
    }
    try (Connection c = DriverManager.getConnection(config.url().jdbcUrl(), properties)) {
      c.setReadOnly(true);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(
              "SELECT current_user, current_database(), current_setting('server_version'), "
                  + "coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)")) {
        rs.next();
        return new Result(true, "connected as " + rs.getString(1) + " to database " + rs.getString(2)
            + " (PostgreSQL " + rs.getString(3) + (rs.getBoolean(4) ? ", TLS" : ", no TLS") + ")");
      }
    } catch (SQLException | RuntimeException e) {
      return new Result(false, FailureCause.describe(e));
    }
  }
}
