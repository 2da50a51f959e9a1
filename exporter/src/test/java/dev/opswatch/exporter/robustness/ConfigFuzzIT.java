package dev.opswatch.exporter.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.MainAccess;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few hundred generated invalid configs. Each must end in one line on stderr and exit code 2:
 * never a hang, never a success, never a stack trace. All run in-process through Main's config
 * path; a sample also runs as real `java -jar` processes to check the exit code itself.
 */
class ConfigFuzzIT {
  /** DATABASE_URL is only a fallback, so the URL mutations in the files still take effect. */
  private static final Map<String, String> ENV = Map.of("DATABASE_URL", "postgresql://app@127.0.0.1:1/app");

  /** Keys and values that are wrong for them. */
  private static final String[][] MUTATIONS = {
      {"opswatch.http.port", "-1", "70000", "\"abc\"", "true", "[1]", "{ a = 1 }", "1.5"},
      {"opswatch.http.threads", "0", "1000", "\"x\""},
      {"opswatch.http.basic-auth.username", "\"prom\""},
      {"opswatch.http.tls.keystore-file", "\"/nonexistent/keystore.p12\""},
      {"opswatch.admin.token-file", "\"/nonexistent/token\""},
      {"opswatch.database.pool-size", "0", "3", "-1", "\"two\""},
      {"opswatch.database.url", "\"mysql://x\"", "\"postgresql://\"", "\"http://db/app\"", "\"jdbc:mysql://x\"", "\"postgresql://a b@c/d\"", "42"},
      {"opswatch.database.statement-timeout", "\"-1s\"", "\"abc\"", "\"0s\"", "[]"},
      {"opswatch.database.connect-timeout", "\"10ms\"", "\"forever\""},
      {"opswatch.database.password-file", "\"/nonexistent/pw\""},
      {"opswatch.budget.total-eur", "-1", "\"abc\"", "\"Infinity\"", "{}"},
      {"opswatch.budget.warning-ratio", "0", "1.5", "-0.1", "\"x\""},
      {"opswatch.budget.critical-ratio", "0.5", "2", "0"},
      {"opswatch.providers.azure_openai.kind", "\"foo\"", "1", "\"\""},
      {"opswatch.providers.azure_openai.warning-ratio", "0.99"},
      {"opswatch.providers.azure_openai.cost-queries", "[]", "[missing]", "\"notalist\""},
      {"opswatch.providers.azure_openai.budget-eur", "\"lots\"", "-3"},
      {"opswatch.providers.vercel.monthly-fee-eur", "-5", "\"x\""},
      {"opswatch.providers.vercel.kind", "\"metered\""},
      {"opswatch.providers.\"Bad-Id\"", "{ kind = fixed, monthly-fee-eur = 1 }"},
      {"opswatch.providers.sentry.budget-eur", "remainder"},
      {"opswatch.billing.time-zone", "\"Nowhere/City\"", "5"},
      {"opswatch.billing.forecast-min-elapsed", "\"1s\""},
      {"opswatch.sources.jitter", "0.9", "-1"},
      {"opswatch.sources.staleness-limit", "\"0s\""},
      {"opswatch.sources.costs.refresh-interval", "\"0s\"", "\"soon\""},
      {"opswatch.max-row-cost-eur", "0", "-1"},
      {"opswatch.cost-queries.voice.sql", "\"\""},
      {"opswatch.quotas.error-window", "\"0s\"", "\"40d\""},
      {"opswatch.quotas.providers.azure_openai.quotas.chat_tokens_per_minute.limit", "-1", "0", "\"many\""},
      {"opswatch.quotas.providers.azure_openai.quotas.chat_tokens_per_minute.window", "\"fortnight\"", "\"0s\"", "\"60d\""},
      {"opswatch.quotas.providers.azure_openai.quotas.chat_tokens_per_minute.measure", "\"avg\""},
      {"opswatch.quotas.providers.google_drive.warning-ratio", "0.95"},
      {"opswatch.incidents.lookback", "\"0s\"", "\"soon\""},
      {"opswatch.incidents.recent.limit", "0", "-5"},
      {"opswatch.probes.targets.app.url", "\"ftp://x\"", "\"not a url\""},
      {"opswatch.probes.call-timeout", "\"5m\""},
      {"opswatch.probes.targets.app", "{ url = \"http://127.0.0.1:1/api/health\", bearer-token-file = \"/nonexistent/token\" }"},
      {"opswatch.unknown-key", "1"},
      {"opswatch.providerz", "{}"},
  };

  private static final String[] SYNTAX_ERRORS = {
      "opswatch {", "opswatch.http.port = ", "}}}", "opswatch.http { port = 1 ", "opswatch.http.port = ${undefined.key}",
      "opswatch.database.url = \"unterminated", "= 5", "opswatch..http = 1", "[1, 2", "opswatch.http.port = 1 2 }",
  };

  @TempDir Path dir;

  @Test
  void everyInvalidConfigEndsInOneLineAndExitCodeTwo() throws IOException {
    List<String> configs = generate();
    assertTrue(configs.size() >= 300, "only " + configs.size() + " configs generated");
    int n = 0;
    for (String config : configs) {
      Path file = dir.resolve("fuzz-" + (n++) + ".conf");
      Files.writeString(file, config);
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      boolean accepted = MainAccess.loadConfig(new String[] {"--config", file.toString()}, ENV,
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
      String message = err.toString(StandardCharsets.UTF_8);
      assertFalse(accepted, () -> "accepted an invalid config:\n" + config);
      assertEquals(1, message.lines().count(), () -> "not one line for:\n" + config + "\n->\n" + message);
      assertTrue(message.startsWith("opswatch: config error: "), message);
      assertFalse(message.contains("\tat ") || message.contains("Exception in thread"), message);
    }
  }

  @Test
  void aSampleRunsAsRealProcessesAndExitsTwo() throws Exception {
    Path jar = TestDatabase.repoFile("exporter/target/opswatch-exporter.jar");
    assertTrue(Files.exists(jar), "build the jar first (mvn verify packages it before integration tests)");
    List<String> configs = generate();
    Random random = new Random(7);
    for (int i = 0; i < 8; i++) {
      String config = configs.get(random.nextInt(configs.size()));
      Path file = dir.resolve("proc-" + i + ".conf");
      Files.writeString(file, config);
      ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString(), "--config", file.toString(), "--check-config");
      pb.environment().putAll(ENV);
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      Process p = pb.start();
      boolean finished = p.waitFor(30, TimeUnit.SECONDS);
      if (!finished) {
        p.destroyForcibly();
      }
      assertTrue(finished, () -> "hung on:\n" + config);
      String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(2, p.exitValue(), () -> "exit code for:\n" + config + "\nstderr: " + stderr);
      assertEquals(1, stderr.lines().count(), () -> "stderr for:\n" + config + "\n->\n" + stderr);
    }
  }

  /** Every mutation alone at two line positions, every syntax error, and random pairs of mutations. */
  private static List<String> generate() {
    List<String> configs = new ArrayList<>();
    List<String> lines = new ArrayList<>();
    for (String[] m : MUTATIONS) {
      for (int v = 1; v < m.length; v++) {
        lines.add(m[0] + " = " + m[v]);
      }
    }
    for (String line : lines) {
      configs.add(line + "\n");
      configs.add("# a comment\n\nopswatch.http.bind-address = \"127.0.0.1\"\n" + line + "\n");
      configs.add("opswatch {\n  billing.time-zone = \"UTC\"\n}\n" + line + "\n# trailing\n");
    }
    for (String syntax : SYNTAX_ERRORS) {
      configs.add(syntax + "\n");
      configs.add("opswatch.http.port = 9900\n" + syntax + "\n");
    }
    Random random = new Random(42);
    for (int i = 0; i < 100; i++) {
      configs.add(lines.get(random.nextInt(lines.size())) + "\n" + lines.get(random.nextInt(lines.size())) + "\n");
    }
    return configs;
  }
}
