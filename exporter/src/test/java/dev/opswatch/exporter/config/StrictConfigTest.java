package dev.opswatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue #20's first hour: every key at every depth, and every variable with our prefixes, is
 * checked; a mistake is one line naming the key, where it was set and the nearest known key, and a
 * bad value names the value and the expected form.
 */
class StrictConfigTest {
  private static final Map<String, String> DB = Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app");

  @TempDir Path dir;

  private String fileError(String line) throws IOException {
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, "# line 1\n" + line + "\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.of(file), DB));
    String text = ConfigErrors.oneLine(e);
    assertTrue(text.contains("opswatch.conf: 2"), () -> "names file:line: " + text);
    assertEquals(1, e.getMessage().lines().count(), text);
    return text;
  }

  private static String envError(String... pairs) {
    Map<String, String> env = new HashMap<>(DB);
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(), env));
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    return e.getMessage();
  }

  private static void assertContains(String text, String... fragments) {
    for (String fragment : fragments) {
      assertTrue(text.contains(fragment), () -> "no '" + fragment + "' in: " + text);
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      // The typos of issue #20, item 1, then one per depth and per schema.
      "billing.timezone | opswatch.billing.timezone = \"Europe/Rome\" | billing.timezone | did you mean time-zone?",
      "provider budget_eur | opswatch.providers.azure_openai.budget_eur = 120 | providers.azure_openai.budget_eur | did you mean budget-eur?",
      "budget.warning_ratio | opswatch.budget.warning_ratio = 0.7 | budget.warning_ratio | did you mean warning-ratio?",
      "top-level section | opswatch.budgets.total-eur = 1 | budgets | did you mean budget?",
      "third level | opswatch.http.tls.keystore-fil = \"/k.p12\" | http.tls.keystore-fil | did you mean keystore-file?",
      "source setting | opswatch.sources.costs.refresh-intervl = 30s | sources.costs.refresh-intervl | did you mean refresh-interval?",
      "quota schema | opswatch.quotas.providers.azure_openai.quotas.chat_tokens_per_minute.limt = 5 | chat_tokens_per_minute.limt | did you mean limit?",
      "quota provider schema | opswatch.quotas.providers.brave_search.warning_ratio = 0.5 | brave_search.warning_ratio | did you mean warning-ratio?",
      "probe target schema | opswatch.probes.targets.app.urll = \"http://x\" | probes.targets.app.urll | did you mean url?",
      "telemetry category schema | opswatch.incidents.telemetry-categories.circuit_breaker.severty = S1 | circuit_breaker.severty | did you mean severity?",
      "cost query parameter | opswatch.cost-queries.video_frames.prize-per-frame-eur = 0.1 | video_frames.prize-per-frame-eur | did you mean price-per-frame-eur?",
      "misspelled provider id | opswatch.providers.azure_opnai.budget-eur = 120 | providers.azure_opnai | did you mean the provider azure_openai?",
  })
  void anUnknownKeyNamesItselfItsLineAndTheNearestKnownKey(String name, String line, String key, String hint) throws IOException {
    assertContains(fileError(line), key, hint);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "http.threads | opswatch.http.threads = 1.5 | http.threads | a whole number between 1 and 256, got 1.5",
      "incidents.recent.limit | opswatch.incidents.recent.limit = 1.5 | incidents.recent.limit | a whole number between 1 and 100, got 1.5",
      "probes.max-concurrent | opswatch.probes.max-concurrent = 1.5 | probes.max-concurrent | a whole number between 1 and 32, got 1.5",
      "database.pool-size | opswatch.database.pool-size = 1.5 | database.pool-size | 1 or 2",
      "a word for a number | opswatch.max-row-cost-eur = lots | max-row-cost-eur | must be a number > 0, got \"lots\"",
      "a word for a duration | opswatch.database.connect-timeout = soon | database.connect-timeout | a duration such as 15s, 1m or 24h, got \"soon\"",
      "a list for a string | opswatch.billing.time-zone = [UTC] | billing.time-zone | must be a string",
  })
  void aBadValueNamesTheValueAndTheExpectedForm(String name, String line, String key, String expected) throws IOException {
    assertContains(fileError(line), key, expected);
  }

  @Test
  void aForcedPathThatMatchesNothingNamesTheVariable() {
    // '.' is '_' and '-' is '__' in CONFIG_FORCE_: bind_address is opswatch.http.bind.address.
    assertContains(envError("CONFIG_FORCE_opswatch_http_bind_address", "127.0.0.1"),
        "environment variable CONFIG_FORCE_opswatch_http_bind_address", "http.bind", "did you mean bind-address?");
  }

  @Test
  void aProviderBudgetVariableThatMatchesNoProviderNamesTheNearest() {
    assertContains(envError("BUDGET_AZURE_OPEN_AI_EUR", "120"),
        "environment variable BUDGET_AZURE_OPEN_AI_EUR", "matches no provider", "did you mean BUDGET_AZURE_OPENAI_EUR?");
  }

  @Test
  void anUnknownOpswatchVariableNamesTheNearest() {
    assertContains(envError("OPSWATCH_DATABSE_USER", "reader"),
        "environment variable OPSWATCH_DATABSE_USER", "did you mean OPSWATCH_DATABASE_USER?");
  }

  @Test
  void aBadNumberInAVariableNamesTheValueAndTheForm() {
    assertContains(envError("BUDGET_TOTAL_EUR", "abc"),
        "environment variable BUDGET_TOTAL_EUR", "budget.total-eur", "must be a number >= 0, got \"abc\"");
  }

  @Test
  void theOtherToolsVariablesAndTheTestHarnessAreNotMistakes() {
    Map<String, String> env = new HashMap<>(DB);
    env.put("OPSWATCH_AUDIT_LOG", "/tmp/audit.log");
    env.put("OPSWATCH_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres");
    env.put("OPSWATCH_HTTP_BIND_ADDRESS", "127.0.0.1");
    env.put("CONFIG_FORCE_opswatch_http_bind__address", "127.0.0.2");
    ExporterConfig c = ConfigLoader.load(Optional.empty(), env);
    assertEquals("127.0.0.2", c.http().bindAddress(), "CONFIG_FORCE_ wins over the plain variable");
  }

  @Test
  void aNewProviderWithAllItsKeysIsAccepted() throws IOException {
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, """
        opswatch.budget.total-eur = 200
        opswatch.providers.resend { kind = fixed, display-name = "Resend", monthly-fee-eur = 18, budget-eur = 20, warning-ratio = 0.9, critical-ratio = 0.95 }
        """);
    ExporterConfig c = ConfigLoader.load(Optional.of(file), DB);
    assertTrue(c.providers().stream().anyMatch(p -> p.id().equals("resend") && p.budgetEur().getAsDouble() == 20));
  }
}
