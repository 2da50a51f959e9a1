package dev.opswatch.exporter.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.MainAccess;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.cost.CostSource;
import dev.opswatch.exporter.refresh.FailureCause;
import dev.opswatch.exporter.testing.PgBouncer;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --check-config --connect} and the refresh log name the server's own error in one line,
 * never the password: against a real PostgreSQL, and a real pgBouncer with SCRAM for passwords
 * (whose own words for a wrong one are "SASL authentication failed"; PostgreSQL's are "password
 * authentication failed for user ...").
 */
class ConnectionErrorsIT {
  private static final String PASSWORD = "right-horse-battery";
  private static final String WRONG = "hunter2-wrong";

  private static TestDatabase db;
  private static PgBouncer bouncer;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.create();
    bouncer = PgBouncer.start(db, PASSWORD);
  }

  @AfterAll
  static void stop() {
    if (bouncer != null) {
      bouncer.close();
    }
    if (db != null) {
      db.close();
    }
  }

  private static ExporterConfig config(String url) {
    return TestConfigs.forDatabase(db, "opswatch.database.url = \"" + url + "\"\n"
        + "opswatch.database.connect-timeout = 1s\nopswatch.database.acquire-timeout = 2s\n");
  }

  private static String viaBouncer(String password) {
    return "postgresql://" + db.user() + ":" + password + "@127.0.0.1:" + bouncer.port() + "/" + db.name() + "?sslmode=disable";
  }

  private static ConnectionCheck.Result check(String url) {
    ConnectionCheck.Result result = ConnectionCheck.run(config(url).database());
    assertEquals(1, result.message().lines().count(), result.message());
    assertFalse(result.message().contains(WRONG) || result.message().contains(PASSWORD), result.message());
    return result;
  }

  @Test
  void rightSettingsSayWhoAndWhere() {
    ConnectionCheck.Result result = check(viaBouncer(PASSWORD));
    assertTrue(result.ok(), result.message());
    assertTrue(result.message().startsWith("connected as " + db.user() + " to database " + db.name()), result.message());
  }

  @Test
  void aWrongPasswordIsTheServersAuthenticationError() {
    ConnectionCheck.Result result = check(viaBouncer(WRONG));
    assertFalse(result.ok());
    assertTrue(result.message().contains("FATAL: SASL authentication failed"), result.message());
  }

  @Test
  void anUnknownDatabase() {
    ConnectionCheck.Result result = check("postgresql://" + db.user() + "@" + db.host() + ":" + db.port() + "/opswatch_it_no_such_db");
    assertFalse(result.ok());
    assertTrue(result.message().contains("database \"opswatch_it_no_such_db\" does not exist"), result.message());
    assertTrue(result.message().contains("SQLSTATE 3D000"), result.message());
  }

  @Test
  void aClosedPort() throws Exception {
    int closed = PgBouncer.freePort();
    ConnectionCheck.Result result = check("postgresql://" + db.user() + "@127.0.0.1:" + closed + "/x");
    assertFalse(result.ok());
    assertTrue(result.message().contains("Connection refused"), result.message());
  }

  @Test
  void anUnknownHost() {
    ConnectionCheck.Result result = check("postgresql://" + db.user() + "@no-such-host.invalid:5432/x");
    assertFalse(result.ok());
    assertTrue(result.message().contains("UnknownHostException: no-such-host.invalid"), result.message());
  }

  @Test
  void aServerThatNeverAnswersTimesOut() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      long started = System.nanoTime();
      ConnectionCheck.Result result = check("postgresql://" + db.user() + "@127.0.0.1:" + silent.getLocalPort() + "/x");
      assertFalse(result.ok());
      assertTrue(result.message().toLowerCase(java.util.Locale.ROOT).contains("timed out"), result.message());
      assertTrue(System.nanoTime() - started < 20_000_000_000L, "bounded by connect-timeout");
    }
  }

  @Test
  void theRefreshLogShowsTheServersErrorInsteadOfThePoolTimeout() {
    ExporterConfig config = config(viaBouncer(WRONG));
    try (Database database = new Database(config.database())) {
      Exception e = assertThrows(Exception.class, () -> new CostSource(config, database).refresh(Instant.now()));
      String line = FailureCause.describe(e);
      assertTrue(line.contains("FATAL: SASL authentication failed"), line);
      assertTrue(line.contains("Connection is not available"), "the pool's own words come after the cause: " + line);
      assertFalse(line.contains(WRONG), line);
    }
  }

  @Test
  void checkConfigConnectExitsOneWithTheCauseOnOneLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = MainAccess.run(new String[] {"--check-config", "--connect"}, Map.of("OPSWATCH_DATABASE_URL", viaBouncer(WRONG)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(1, code);
    assertEquals("config ok\n", out.toString(StandardCharsets.UTF_8));
    String line = err.toString(StandardCharsets.UTF_8);
    assertTrue(line.startsWith("opswatch: database: ") && line.contains("FATAL: SASL authentication failed"), line);
    assertEquals(1, line.lines().count(), line);
    assertFalse(line.contains(WRONG), line);
  }
}
