package dev.opswatch.exporter.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TcpProxy;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The database misbehaves; the exporter must keep answering, tell the truth in source_up, and
 * leak nothing. "Answering" means a scrape returns while the database is stuck: the stuck query
 * sleeps for seconds, so a scrape that returns at all did not wait on it.
 */
class FaultIT {
  private static final Duration LIMIT = Duration.ofSeconds(40);
  private static TestDatabase db;

  @BeforeAll
  static void data() {
    db = TestDatabase.create();
    db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
    db.execute("""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opswatch_fault') THEN
            CREATE ROLE opswatch_fault LOGIN BYPASSRLS;
          END IF;
        END $$;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO opswatch_fault;
        """);
  }

  @AfterAll
  static void drop() {
    db.close();
  }

  private static Exporter start(TcpProxy proxy, String hocon) throws java.io.IOException {
    // Not a superuser: connection limits do not apply to superusers.
    String url = "postgresql://opswatch_fault@127.0.0.1:" + proxy.port() + "/" + db.name();
    return Exporter.start(TestConfigs.forDatabase(db, "opswatch.database.url = \"" + url + "\"\n"
        + "opswatch.sources.costs.refresh-interval = 1s\n" + hocon));
  }

  private static double costsUp(int port) {
    return Exposition.scrape(port).value("opswatch_source_up", "source", "costs");
  }

  @Test
  void databaseKilledDuringARefreshThenRestarted() throws Exception {
    // Every refresh sleeps 3 s in the database, so the cut lands mid-refresh.
    String slow = """
        opswatch.cost-queries.text_sessions.sql = "SELECT 'm' AS model, (pg_sleep(3)::text = '')::int::float8 AS cost_eur"
        """;
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = start(proxy, slow)) {
      int port = exporter.port();
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
      int threadsBefore = liveThreads();
      Await.until("a refresh in flight", LIMIT, () -> activeQueries() > 0);
      proxy.down();
      Await.until("source down", LIMIT, () -> costsUp(port) == 0.0);
      assertEquals(200, Http.get(port, "/metrics").statusCode());
      proxy.up();
      Await.until("source up again", LIMIT, () -> costsUp(port) == 1.0);
      assertTrue(exporter.database().totalConnections() <= 2, "pool above its limit");
      assertTrue(liveThreads() <= threadsBefore + 2, "threads grew from " + threadsBefore + " to " + liveThreads());
    }
    Await.until("no connection left behind", LIMIT, () -> exporterConnections() == 0);
  }

  @Test
  void slowDatabasePastTheStatementTimeoutIsCutAndReported() throws Exception {
    String slow = """
        opswatch.database.statement-timeout = 1s
        opswatch.cost-queries.text_sessions.sql = "SELECT 'm' AS model, (pg_sleep(4)::text = '')::int::float8 AS cost_eur"
        """;
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = start(proxy, slow)) {
      int port = exporter.port();
      Await.until("a refresh cut by the timeout", LIMIT,
          () -> Exposition.scrape(port).value("opswatch_source_errors_total", "source", "costs") >= 2);
      assertEquals(0.0, costsUp(port));
      assertEquals(503, Http.get(port, "/-/ready").statusCode());
      assertEquals(0, activeQueries(), "the server cancelled the statement; nothing keeps running");
      assertTrue(exporter.database().totalConnections() <= 2);
    }
  }

  @Test
  void databaseRefusingConnectionsMakesTheSourceDownNotTheExporter() throws Exception {
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = start(proxy, "")) {
      int port = exporter.port();
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
      // As when max_connections is reached: new connections are refused, existing ones are gone.
      db.execute("ALTER DATABASE " + db.name() + " CONNECTION LIMIT 0");
      try {
        terminateExporterBackends();
        Await.until("source down", LIMIT, () -> costsUp(port) == 0.0);
        assertEquals(200, Http.get(port, "/metrics").statusCode());
        assertTrue(Exposition.scrape(port).hasFamily("opswatch_cost_month_to_date_eur"), "last good values are served while fresh");
      } finally {
        db.execute("ALTER DATABASE " + db.name() + " CONNECTION LIMIT -1");
      }
      Await.until("source up again", LIMIT, () -> costsUp(port) == 1.0);
      assertTrue(exporterConnections() <= 2, "more than two connections: " + exporterConnections());
    }
  }

  /**
   * Live threads, except the HTTP server's connection threads ("http"): one per open connection, idle ones
   * end after 30 s, so their number follows the test's own scrapes, not the database fault under test.
   */
  private static int liveThreads() {
    return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> !t.getName().equals("http")).count();
  }

  private static int activeQueries() {
    return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND state = 'active' AND datname = '" + db.name() + "'");
  }

  private static int exporterConnections() {
    return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND datname = '" + db.name() + "'");
  }

  private static void terminateExporterBackends() {
    count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND datname = '" + db.name() + "'");
  }

  /** Runs on the server's maintenance database, which the connection limit does not affect. */
  private static int count(String sql) {
    String admin = db.jdbcUrl().substring(0, db.jdbcUrl().lastIndexOf('/') + 1) + "postgres";
    try (Connection c = java.sql.DriverManager.getConnection(admin, db.user(), "");
        Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
