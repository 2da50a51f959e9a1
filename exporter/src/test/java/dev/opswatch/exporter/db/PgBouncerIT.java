package dev.opswatch.exporter.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.PgBouncer;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.time.Duration;
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
    try (TestDatabase db = TestDatabase.create(); PgBouncer bouncer = PgBouncer.start(db, null)) {
      db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
      int port = bouncer.port();
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
    }
  }

  private static double lastSuccess(int port) {
    return Exposition.scrape(port).value("opswatch_source_last_success_timestamp_seconds", "source", "costs");
  }
}
