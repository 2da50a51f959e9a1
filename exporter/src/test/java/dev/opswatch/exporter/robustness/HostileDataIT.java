package dev.opswatch.exporter.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rows no sane app writes: they must be rejected or safely escaped, the source must stay up,
 * and the exposition must stay valid for promtool.
 */
class HostileDataIT {
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @Test
  void hostileCostRowsAreRejectedOrEscapedAndTheExpositionStaysValid() throws Exception {
    try (TestDatabase db = TestDatabase.create()) {
      db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
      StringBuilder rows = new StringBuilder("""
          INSERT INTO voice_usage_events (id, "userId", "sessionId", model, "costEur", "periodDay", "periodMonth", "createdAt") VALUES
            ('h1', 'demo-user-1', 's', E'evil"model\\nwith a newline and a \\\\ backslash', 0.5, 'd', 'm', now() AT TIME ZONE 'UTC'),
            ('h2', 'demo-user-1', 's', repeat('x', 500), 0.5, 'd', 'm', now() AT TIME ZONE 'UTC'),
            ('h3', 'demo-user-1', 's', 'gpt-realtime', 1e18, 'd', 'm', now() AT TIME ZONE 'UTC'),
            ('h4', 'demo-user-1', 's', 'gpt-realtime', '-Infinity', 'd', 'm', now() AT TIME ZONE 'UTC'),
            ('h5', 'demo-user-1', 's', '', 0.1, 'd', 'm', now() AT TIME ZONE 'UTC')""");
      for (int i = 0; i < 40; i++) {
        rows.append(",\n  ('m").append(i).append("', 'demo-user-1', 's', 'unknown-model-").append(i)
            .append("', 0.01, 'd', 'm', now() AT TIME ZONE 'UTC')");
      }
      db.execute(rows.toString());
      db.execute("""
          INSERT INTO session_metrics (id, "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "createdAt", "updatedAt") VALUES
            ('hs1', 'hs1', 'demo-user-1', -5, 10, 0.1, now() AT TIME ZONE 'UTC', now()),
            ('hs2', 'hs2', 'demo-user-1', 2147483647, 2147483647, 0.2, now() AT TIME ZONE 'UTC', now()),
            ('hs3', 'hs3', 'demo-user-1', 2147483647, 2147483647, 0.2, now() AT TIME ZONE 'UTC', now())
          """);
      try (Exporter exporter = Exporter.start(TestConfigs.forDatabase(db, ""))) {
        int port = exporter.port();
        Await.until("ready", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
        String body = Http.get(port, "/metrics").body();
        Exposition scrape = Exposition.parse(body);
        assertEquals(1.0, scrape.value("opswatch_source_up", "source", "costs"));
        assertEquals(0, promtool(body), "promtool rejected the exposition");
        assertTrue(body.contains("model=\"evil\\\"model\\nwith a newline and a \\\\ backslash\""), "label escaped as the format says");
        List<String> models = scrape.series("opswatch_llm_cost_month_to_date_eur");
        // At most 20 models per cost query plus "other"; text and video add one each.
        assertTrue(models.size() <= 23, "model labels are bounded, got " + models.size());
        assertTrue(models.stream().anyMatch(k -> k.contains("model=\"other\"")), "models beyond the bound become other");
        assertTrue(models.stream().noneMatch(k -> k.contains("x".repeat(65))), "long labels are cut");
        assertTrue(scrape.value("opswatch_rows_rejected_total", "reason", "absurd_value", "source", "costs") >= 1);
        assertTrue(scrape.value("opswatch_rows_rejected_total", "reason", "negative_value", "source", "costs") >= 2);
        // Two rows of 2^31-1 tokens each are summed as bigint, not overflowed.
        assertTrue(scrape.value("opswatch_llm_tokens_month_to_date", "direction", "input", "model", "gpt-5-mini", "provider", "azure_openai") > 4e9);
      }
    }
  }

  @Test
  void nonUtf8BytesInADatabaseThatAllowsThemDoNotBreakTheSource() throws Exception {
    // SQL_ASCII databases store any bytes; a UTF-8 decoder must not take the source down.
    try (TestDatabase db = TestDatabase.createWithEncoding("SQL_ASCII")) {
      db.execute("""
          INSERT INTO "User" (id) VALUES ('u1');
          INSERT INTO voice_usage_events (id, "userId", "sessionId", model, "costEur", "periodDay", "periodMonth", "createdAt")
          VALUES ('b1', 'u1', 's', convert_from('\\x67707428ff29'::bytea, 'SQL_ASCII'), 0.25, 'd', 'm', now() AT TIME ZONE 'UTC')
          """);
      try (Exporter exporter = Exporter.start(TestConfigs.forDatabase(db, ""))) {
        int port = exporter.port();
        Await.until("ready", LIMIT, () -> Http.get(port, "/-/ready").statusCode() == 200);
        String body = Http.get(port, "/metrics").body();
        assertEquals(1.0, Exposition.parse(body).value("opswatch_source_up", "source", "costs"));
        assertEquals(0, promtool(body), "promtool rejected the exposition");
        assertTrue(body.contains("model=\"gpt(\uFFFD)\""), "invalid bytes become U+FFFD");
      }
    }
  }

  static int promtool(String body) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    p.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    int code = p.waitFor();
    String text = out.toString(StandardCharsets.UTF_8).strip();
    return text.isEmpty() ? code : 1000 + code;
  }
}
