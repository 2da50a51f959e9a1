package dev.opswatch.exporter.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The exporter through a real pgBouncer in transaction pooling mode, as on Supabase's pooler
 * port 6543: no session state survives a transaction and named server-side prepared statements
 * break. Every source must work and read the same figures as over a direct connection.
 */
class PgBouncerIT {
  private static final Duration LIMIT = Duration.ofSeconds(40);

  @Test
  void everySourceWorksThroughTransactionPooling() throws Exception {
    Path binary = Path.of("/usr/sbin/pgbouncer");
    assertTrue(Files.isExecutable(binary), "pgbouncer is missing: apt-get install pgbouncer (scripts/test.sh does)");
    try (TestDatabase db = TestDatabase.create()) {
      db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
      Path dir = Files.createTempDirectory("pgbouncer");
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
      int port = freePort();
      Files.writeString(dir.resolve("users.txt"), "\"" + db.user() + "\" \"\"\n");
      Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
          "[databases]",
          "* = host=" + db.host() + " port=" + db.port(),
          "[pgbouncer]",
          "listen_addr = 127.0.0.1",
          "listen_port = " + port,
          "unix_socket_dir =",
          "auth_type = trust",
          "auth_file = " + dir.resolve("users.txt"),
          "pool_mode = transaction",
          "default_pool_size = 2",
          "max_client_conn = 20",
          // pgjdbc sends it at start-up; Supabase's pooler accepts it too.
          "ignore_startup_parameters = extra_float_digits",
          "logfile = " + dir.resolve("pgbouncer.log"),
          ""));
      for (Path f : List.of(dir.resolve("users.txt"), dir.resolve("pgbouncer.ini"))) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
      }
      List<String> command = new ArrayList<>();
      if ("root".equals(System.getProperty("user.name"))) {
        command.addAll(List.of("runuser", "-u", "postgres", "--")); // pgbouncer refuses to run as root
      }
      command.addAll(List.of(binary.toString(), dir.resolve("pgbouncer.ini").toString()));
      Process bouncer = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(dir.resolve("stdout.log").toFile()).start();
      try {
        Await.until("pgbouncer listening", LIMIT, () -> listening(port));
        String url = "postgresql://" + db.user() + "@127.0.0.1:" + port + "/" + db.name() + "?sslmode=disable&pgbouncer=true";
        String fast = """
            opswatch.sources.costs.refresh-interval = 1s
            opswatch.sources.quotas.refresh-interval = 1s
            opswatch.sources.quotas_fast.refresh-interval = 1s
            opswatch.sources.incidents.refresh-interval = 1s
            """;
        double viaBouncer;
        try (Exporter exporter = Exporter.start(TestConfigs.forDatabase(db, "opswatch.database.url = \"" + url + "\"\n" + fast))) {
          int http = exporter.port();
          Await.until("ready through pgbouncer", LIMIT, () -> Http.get(http, "/-/ready").statusCode() == 200);
          // More refreshes, so that pooled server connections are reused across transactions.
          double first = lastSuccess(http);
          Await.until("more cost refreshes", LIMIT, () -> lastSuccess(http) >= first + 4);
          Exposition scrape = Exposition.scrape(http);
          for (String source : List.of("costs", "quotas", "quotas_fast", "incidents")) {
            assertEquals(1.0, scrape.value("opswatch_source_up", "source", source), source);
            assertEquals(0.0, scrape.value("opswatch_source_errors_total", "source", source), source);
          }
          viaBouncer = scrape.value("opswatch_cost_month_to_date_eur", "provider", "azure_openai");
        }
        try (Exporter direct = Exporter.start(TestConfigs.forDatabase(db, fast))) {
          Await.until("ready direct", LIMIT, () -> Http.get(direct.port(), "/-/ready").statusCode() == 200);
          assertEquals(Exposition.scrape(direct.port()).value("opswatch_cost_month_to_date_eur", "provider", "azure_openai"), viaBouncer, 1e-9);
        }
      } finally {
        bouncer.destroy();
        bouncer.waitFor();
      }
    }
  }

  private static double lastSuccess(int port) {
    return Exposition.scrape(port).value("opswatch_source_last_success_timestamp_seconds", "source", "costs");
  }

  private static boolean listening(int port) {
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      return s.isConnected();
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
