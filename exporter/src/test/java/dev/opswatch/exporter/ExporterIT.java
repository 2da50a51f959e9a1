package dev.opswatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TcpProxy;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The whole exporter over HTTP against a real PostgreSQL behind a cuttable proxy. */
class ExporterIT {
  private static final Duration LIMIT = Duration.ofSeconds(30);
  
  private static TestDatabase db;

  @BeforeAll
  static void demoData() {
    db = TestDatabase.create();
    db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
    db.execute("""
        INSERT INTO session_metrics (id, "sessionId", "userId", "costEur", "createdAt", "updatedAt")
        VALUES ('bad-null', 'bad-null', 'demo-user-1', NULL, now() AT TIME ZONE 'UTC', now())
        """);
  }

  @AfterAll
  static void drop() {
    db.close();
  }

  private static ExporterConfig config(TcpProxy proxy, String hocon) {
    String url = "postgresql://" + db.user() + "@127.0.0.1:" + proxy.port() + "/" + db.name();
    return TestConfigs.forDatabase(db, "opswatch.database.url = \"" + url + "\"\n"
        + "opswatch.sources.costs.refresh-interval = 1s\n" + hocon);
  }

  @Test
  void servesTheEndpointsAndNothingElse() throws Exception {
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = Exporter.start(config(proxy, ""))) {
      int port = exporter.port();
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
      assertEquals(200, Http.get(port, "/-/healthy").statusCode());
      HttpResponse<String> landing = Http.get(port, "/");
      assertTrue(landing.body().contains("href=\"/metrics\""));
      assertEquals(404, Http.get(port, "/metricsx").statusCode());
      assertEquals(404, Http.get(port, "/nope").statusCode());

      HttpResponse<String> text = Http.get(port, "/metrics");
      assertTrue(text.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
      HttpResponse<String> om = Http.get(port, "/metrics", "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
      assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
      assertTrue(om.body().endsWith("# EOF\n"));

      Exposition scrape = Exposition.parse(text.body());
      assertEquals(1.0, scrape.value("opswatch_source_up", "source", "costs"));
      assertEquals(150.0, scrape.value("opswatch_budget_total_eur"));
      assertTrue(scrape.value("opswatch_cost_month_to_date_eur", "provider", "azure_openai") > 0);
      // One bad row, counted again at every refresh since start.
      assertTrue(scrape.value("opswatch_rows_rejected_total", "reason", "null_value", "source", "costs") >= 1);
      assertEquals(1.0, scrape.value("opswatch_build_info", "version", BuildInfo.version()));
    }
  }

  @Test
  void promtoolFindsNothingToCriticiseInARealScrape() throws Exception {
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = Exporter.start(config(proxy, ""))) {
      Await.until("first refresh", LIMIT, () -> Http.get(exporter.port(), "/-/ready").statusCode() == 200);
      String body = Http.get(exporter.port(), "/metrics").body();
      Process promtool;
      try {
        promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new AssertionError("promtool is not on PATH; scripts/test.sh installs it (apt-get install prometheus)", e);
      }
      promtool.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
      promtool.getOutputStream().close();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      promtool.getInputStream().transferTo(out);
      int code = promtool.waitFor();
      assertEquals("", out.toString(StandardCharsets.UTF_8).strip(), "promtool check metrics printed warnings");
      assertEquals(0, code);
    }
  }

  @Test
  void startsWithTheDatabaseDownAndRecoversWithoutARestart() throws Exception {
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port())) {
      proxy.down();
      try (Exporter exporter = Exporter.start(config(proxy, ""))) {
        int port = exporter.port();
        Await.until("a failed refresh", LIMIT, () -> Exposition.scrape(port).value("opswatch_source_errors_total", "source", "costs") >= 1);
        assertEquals(503, Http.get(port, "/-/ready").statusCode());
        Exposition down = Exposition.scrape(port);
        assertEquals(0.0, down.value("opswatch_source_up", "source", "costs"));
        assertFalse(down.hasFamily("opswatch_cost_month_to_date_eur"), "no cost data was ever read");

        proxy.up();
        Await.until("recovery", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
        assertEquals(1.0, Exposition.scrape(port).value("opswatch_source_up", "source", "costs"));
      }
    }
  }

  @Test
  void keepsServingLastGoodValuesUntilTheyAreStaleThenDropsThem() throws Exception {
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port());
        Exporter exporter = Exporter.start(config(proxy, "opswatch.sources.staleness-limit = 4s\n"))) {
      int port = exporter.port();
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
      double mtd = Exposition.scrape(port).value("opswatch_cost_month_to_date_eur", "provider", "azure_openai");

      proxy.down();
      Await.until("source down", LIMIT, () -> Exposition.scrape(port).value("opswatch_source_up", "source", "costs") == 0.0);
      Exposition failing = Exposition.scrape(port);
      if (failing.hasFamily("opswatch_cost_month_to_date_eur")) {
        assertEquals(mtd, failing.value("opswatch_cost_month_to_date_eur", "provider", "azure_openai"), 1e-9);
      }
      Await.until("stale data dropped", LIMIT, () -> !Exposition.scrape(port).hasFamily("opswatch_cost_month_to_date_eur"));
      assertEquals(200, Http.get(port, "/-/ready").statusCode(), "readiness means 'has started', not 'is healthy'");
      assertTrue(Exposition.scrape(port).hasFamily("opswatch_source_last_success_timestamp_seconds"));
    }
  }

  @Test
  void scrapesAnswerWhileARefreshIsStuckInTheDatabase() throws Exception {
    String slow = """
        opswatch.database.statement-timeout = 20s
        opswatch.cost-queries.text_sessions.sql = "SELECT 'm' AS model, pg_sleep(8)::text::int::float8 AS cost_eur"
        """;
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = Exporter.start(config(proxy, slow))) {
      Await.until("the refresh to sit in pg_sleep", LIMIT, () -> sleepingQueries() > 0);
      HttpResponse<String> during = Http.get(exporter.port(), "/metrics");
      assertEquals(200, during.statusCode());
      assertTrue(sleepingQueries() > 0, "the scrape returned while the query was still running");
      assertEquals(0.0, Exposition.parse(during.body()).value("opswatch_source_up", "source", "costs"));
    }
  }

  @Test
  void basicAuthGuardsEveryEndpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path password = dir.resolve("pw");
    java.nio.file.Files.writeString(password, "s3cret");
    String auth = "opswatch.http.basic-auth { username = prom, password-file = \"" + password + "\" }\n"
        + "opswatch.admin.token = admin-secret-for-tests\n";
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port()); Exporter exporter = Exporter.start(config(proxy, auth))) {
      int port = exporter.port();
      String good = "Basic " + java.util.Base64.getEncoder().encodeToString("prom:s3cret".getBytes(StandardCharsets.UTF_8));
      String bad = "Basic " + java.util.Base64.getEncoder().encodeToString("prom:nope".getBytes(StandardCharsets.UTF_8));
      for (String path : new String[] {"/metrics", "/-/healthy", "/-/ready", "/"}) {
        assertEquals(401, Http.get(port, path).statusCode(), path);
        assertEquals(401, Http.get(port, path, "Authorization", bad).statusCode(), path);
      }
      assertEquals(200, Http.get(port, "/metrics", "Authorization", good).statusCode());
      // The admin API keeps its own bearer token: basic auth does not shadow it.
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready", "Authorization", good).statusCode() == 200);
      assertEquals(200, Http.get(port, "/api/cost-tracking", "Authorization", "Bearer admin-secret-for-tests").statusCode());
      assertEquals(401, Http.get(port, "/api/cost-tracking", "Authorization", good).statusCode());
    }
  }

  @Test
  void shutdownClosesTheServerAndEveryConnection() throws Exception {
    int port;
    try (TcpProxy proxy = new TcpProxy(db.host(), db.port())) {
      Exporter exporter = Exporter.start(config(proxy, ""));
      port = exporter.port();
      Await.until("first refresh", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
      exporter.close();
      Await.until("connections closed", LIMIT, () -> exporterConnections() == 0);
    }
    Optional<Integer> answered;
    try {
      answered = Optional.of(Http.get(port, "/-/healthy").statusCode());
    } catch (IllegalStateException e) {
      answered = Optional.empty();
    }
    assertTrue(answered.isEmpty(), "the port still answers after close()");
  }

  private static int sleepingQueries() {
    return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND query LIKE '%pg_sleep%' AND state = 'active'");
  }

  private static int exporterConnections() {
    return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND datname = '" + db.name() + "'");
  }

  private static int count(String sql) {
    try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
