package dev.opswatch.exporter.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.opswatch.exporter.config.ExporterConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The exporter's only way into the app's database: a pool of at most two connections, every
 * unit of work in a server-enforced READ ONLY transaction with its own statement timeout.
 *
 * <p>Settings are per transaction ({@code SET LOCAL}) and prepared statements are never named on
 * the server ({@code prepareThreshold=0}), so this works through pgBouncer in transaction mode,
 * as on Supabase's pooler port 6543.
 */
public final class Database implements AutoCloseable {

  /** A unit of work inside one read-only transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private final HikariDataSource pool;
  private final Duration statementTimeout;
  /**
   * One permit per pooled connection, handed out in arrival order. A source waits here while the
   * others use the pool, and the pool's acquire timeout then measures only making or checking a
   * connection: at start-up four sources share two connections, and a first refresh queued behind a
   * long one must wait its turn, not fail after {@code acquire-timeout} and retry much later.
   */
  private final Semaphore turns;
  /** Far above any refresh's work (each statement is cut at statement-timeout): a guard, not a limit. */
  private static final Duration MAX_TURN_WAIT = Duration.ofMinutes(5);

  public Database(ExporterConfig.Database config) {
    this.statementTimeout = config.statementTimeout();
    this.turns = new Semaphore(config.poolSize(), true);
    HikariConfig hikari = new HikariConfig();
    hikari.setPoolName("opswatch-db");
    hikari.setJdbcUrl(config.url().jdbcUrl());
    if (!config.url().user().isEmpty()) {
      hikari.setUsername(config.url().user());
    }
    if (!config.url().password().isEmpty()) {
      hikari.setPassword(config.url().password());
    }
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setMinimumIdle(0);
    hikari.setIdleTimeout(Duration.ofMinutes(2).toMillis());
    hikari.setMaxLifetime(Duration.ofMinutes(30).toMillis());
    hikari.setConnectionTimeout(config.acquireTimeout().toMillis());
    hikari.setValidationTimeout(Math.min(config.acquireTimeout().toMillis(), 3000));
    // Start even when the database is down: connections are made on first use and retried.
    hikari.setInitializationFailTimeout(-1);
    hikari.setAutoCommit(false);
    hikari.setReadOnly(true);
    hikari.setDataSourceProperties(driverProperties(config));
    this.pool = new HikariDataSource(hikari);
  }

  /**
   * The driver's settings, the same for the pool and for {@code --check-config --connect}. Settings
   * are per transaction and statements are never named on the server, for pgBouncer's transaction mode.
   */
  static Properties driverProperties(ExporterConfig.Database config) {
    Properties p = new Properties();
    p.setProperty("ApplicationName", config.applicationName());
    p.setProperty("connectTimeout", seconds(config.connectTimeout()));
    p.setProperty("loginTimeout", seconds(config.connectTimeout()));
    p.setProperty("socketTimeout", seconds(config.socketTimeout()));
    p.setProperty("tcpKeepAlive", "true");
    // READ ONLY on every transaction, sent by the driver, enforced by the server.
    p.setProperty("readOnlyMode", "always");
    p.setProperty("prepareThreshold", "0");
    return p;
  }

  public <T> T readOnly(Work<T> work) throws SQLException {
    try {
      if (!turns.tryAcquire(MAX_TURN_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new SQLTransientConnectionException("waited " + MAX_TURN_WAIT.toMinutes() + " minutes for a pooled connection");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a database connection", e);
    }
    try {
      return inTransaction(work);
    } finally {
      turns.release();
    }
  }

  private <T> T inTransaction(Work<T> work) throws SQLException {
    try (Connection connection = pool.getConnection()) {
      try {
        try (Statement s = connection.createStatement()) {
          // Both are LOCAL: they end with the transaction, as a transaction pooler requires.
          s.execute("SET LOCAL statement_timeout = " + statementTimeout.toMillis());
          s.execute("SET LOCAL transaction_read_only = on");
        }
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        safeRollback(connection);
        throw e;
      }
    }
  }

  /** The client-side query timeout: a second line of defence behind statement_timeout. */
  public int clientTimeoutSeconds() {
    return (int) Math.max(1, statementTimeout.toSeconds() + 5);
  }

  public int totalConnections() {
    HikariPoolMXBean bean = pool.getHikariPoolMXBean();
    return bean == null ? 0 : bean.getTotalConnections();
  }

  private static void safeRollback(Connection connection) {
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; Hikari evicts it.
    }
  }

  private static String seconds(Duration d) {
    return Long.toString(Math.max(1, d.toSeconds()));
  }

  @Override
  public void close() {
    pool.close();
  }
}
