package dev.opswatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
  private static final Map<String, String> DB = Map.of("OPSWATCH_DATABASE_URL", "postgresql://app:pw@db:5432/app");

  @TempDir Path dir;

  private ExporterConfig load(String fileContent, Map<String, String> env) throws IOException {
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, fileContent);
    return ConfigLoader.load(Optional.of(file), env);
  }

  private ConfigException error(String fileContent, Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> load(fileContent, env));
  }

  @Test
  void defaultsFollowTheOriginalPlan() {
    ExporterConfig c = ConfigLoader.load(Optional.empty(), DB);
    assertEquals(9824, c.http().port());
    assertEquals(150.0, c.budget().totalEur());
    assertEquals(4, c.providers().size());
    ProviderConfig azure = c.providers().get(0);
    assertEquals("azure_openai", azure.id());
    assertEquals(79.0, azure.budgetEur().getAsDouble(), 1e-9, "the total leaves 150 - 20 - 25 - 26");
    assertEquals(20.0, c.providers().get(1).monthlyFeeEur());
    assertFalse(c.providers().get(1).budgetEur().isPresent());
    assertEquals(Duration.ofSeconds(10), c.database().statementTimeout());
    assertEquals("jdbc:postgresql://db:5432/app", c.database().url().jdbcUrl());
    assertEquals(Duration.ofHours(1), c.sources().closedDaysRefresh("costs"));
    assertEquals(Duration.ofHours(24), c.sources().previousPeriodRefresh("costs"), "a closed month: corrections are rare");
    assertEquals(Duration.ofMinutes(5), c.sources().lateRowGrace("costs"));
  }

  @Test
  void planEnvironmentVariablesSetFeesAndTotal() {
    ExporterConfig c = ConfigLoader.load(Optional.empty(), Map.of(
        "OPSWATCH_DATABASE_URL", "postgresql://app:pw@db/app",
        "BUDGET_VERCEL_EUR", "30", "BUDGET_SUPABASE_EUR", "25", "BUDGET_SENTRY_EUR", "26",
        "BUDGET_TOTAL_EUR", "200", "OPSWATCH_HTTP_PORT", "9900"));
    assertEquals(9900, c.http().port());
    assertEquals(30.0, c.providers().get(1).monthlyFeeEur());
    assertEquals(200 - 30 - 25 - 26, c.providers().get(0).budgetEur().getAsDouble(), 1e-9);
  }

  @Test
  void environmentOverridesTheFile() throws IOException {
    ExporterConfig c = load("opswatch.http.port = 9001\n", Map.of(
        "OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "OPSWATCH_HTTP_PORT", "9002"));
    assertEquals(9002, c.http().port());
  }

  @Test
  void anyKeyCanBeForcedFromTheEnvironment() {
    ExporterConfig c = ConfigLoader.load(Optional.empty(), Map.of(
        "OPSWATCH_DATABASE_URL", "postgresql://app@db/app",
        "CONFIG_FORCE_opswatch_database_statement__timeout", "3s",
        "CONFIG_FORCE_opswatch_providers_azure___openai_warning__ratio", "0.7"));
    assertEquals(Duration.ofSeconds(3), c.database().statementTimeout());
    assertEquals(0.7, c.providers().get(0).thresholds().warning());
  }

  @Test
  void providersCanBeAddedRemovedAndRenamed() throws IOException {
    ExporterConfig c = load(String.join("\n",
        "opswatch.providers.sentry = null",
        "opswatch.providers.azure_openai.display-name = \"Azure (EU)\"",
        "opswatch.providers.cloudflare { kind = fixed, monthly-fee-eur = 5, budget-eur = 10 }"), DB);
    assertEquals(4, c.providers().size());
    assertTrue(c.providers().stream().noneMatch(p -> p.id().equals("sentry")));
    assertEquals("Azure (EU)", c.providers().get(0).displayName());
    assertEquals(150 - 20 - 25 - 10, c.providers().get(0).budgetEur().getAsDouble(), 1e-9);
  }

  @Test
  void appUrlBecomesJdbcWithoutCredentialsOrPrismaParameters() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://postgres.abc:s3cr%40t+x@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require&pgbouncer=true");
    assertEquals("jdbc:postgresql://aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require", url.jdbcUrl());
    assertEquals("postgres.abc", url.user());
    assertEquals("s3cr@t+x", url.password());
    assertFalse(url.masked().contains("s3cr"));
    DatabaseUrl jdbc = DatabaseUrl.parse("jdbc:postgresql://h/db?user=u&password=p&ssl=true");
    assertEquals("jdbc:postgresql://h/db?ssl=true", jdbc.jdbcUrl());
    assertEquals("p", jdbc.password());
  }

  @Test
  void passwordFromAFile() throws IOException {
    Path secret = dir.resolve("db-password");
    Files.writeString(secret, "from-file\n");
    ExporterConfig c = ConfigLoader.load(Optional.empty(), Map.of(
        "OPSWATCH_DATABASE_URL", "postgresql://reader@db/app", "OPSWATCH_DATABASE_PASSWORD_FILE", secret.toString()));
    assertEquals("from-file", c.database().url().password());
    assertEquals("reader", c.database().url().user());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "unknown provider kind | opswatch.providers.x { kind = metred, monthly-fee-eur = 1 } | opswatch.providers.x.kind | must be metered or fixed, got 'metred'",
      "negative budget | opswatch.budget.total-eur = -5 | opswatch.budget.total-eur | >= 0",
      "negative provider budget | opswatch.providers.vercel.budget-eur = -1 | opswatch.providers.vercel.budget-eur | >= 0",
      "warning above critical | opswatch.budget { warning-ratio = 0.9, critical-ratio = 0.85 } | opswatch.budget.warning-ratio | above the critical ratio",
      "ratio above one | opswatch.providers.azure_openai.critical-ratio = 1.5 | opswatch.providers.azure_openai.critical-ratio | at most 1",
      "unparseable URL | opswatch.database.url = \"mysql://x\" | opswatch.database.url | must start with postgresql://",
      "missing password file | opswatch.database.password-file = \"/nonexistent/pw\" | opswatch.database.password-file | cannot read file",
      "budget left for the remainder | opswatch.budget.total-eur = 50 | opswatch.budget.total-eur | leaves -21.00 EUR",
      "undefined cost query | opswatch.providers.azure_openai.cost-queries = [nope] | opswatch.providers.azure_openai.cost-queries | 'nope'",
      "pool too large | opswatch.database.pool-size = 10 | opswatch.database.pool-size | must be 1 or 2",
      "bad time zone | opswatch.billing.time-zone = \"Mars/Olympus\" | opswatch.billing.time-zone | must be a time zone id",
      "typo in a section | opswatch.budgets.total-eur = 1 | budgets | not a known setting",
      "port out of range | opswatch.http.port = 70000 | opswatch.http.port | between 1 and 65535",
      "negative closed-days refresh | opswatch.sources.quotas.closed-days-refresh = -1h | opswatch.sources.quotas.closed-days-refresh | at least 0",
      "negative previous-period refresh | opswatch.sources.costs.previous-period-refresh = -1h | opswatch.sources.costs.previous-period-refresh | at least 0",
      "previous period under quotas | opswatch.sources.quotas.previous-period-refresh = 1h | previous-period-refresh | not a known setting",
  })
  void mistakesNameTheKeyAndTheFileLine(String name, String line, String key, String message) {
    // The environment wins over the file, so the URL case must not set one there.
    ConfigException e = error("# line 1\n" + line + "\n", key.endsWith("database.url") ? Map.of() : DB);
    String text = ConfigErrors.oneLine(e);
    assertTrue(text.contains("opswatch.conf: 2"), () -> "no file:line in: " + text);
    assertTrue(text.contains(key.replace("opswatch.", "")), () -> "no key in: " + text);
    assertTrue(text.contains(message), () -> "no '" + message + "' in: " + text);
    assertFalse(text.contains("\n"));
  }

  @Test
  void environmentMistakesNameTheVariable() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(), Map.of(
        "OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "BUDGET_VERCEL_EUR", "-3")));
    assertTrue(e.getMessage().contains("environment variable BUDGET_VERCEL_EUR"), e.getMessage());
    assertTrue(e.getMessage().contains("monthly-fee-eur"), e.getMessage());
  }

  @Test
  void unparseableUrlFromTheEnvironmentNeverEchoesThePassword() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(), Map.of(
        "OPSWATCH_DATABASE_URL", "mysql://admin:hunter2@db/app")));
    assertTrue(e.getMessage().contains("OPSWATCH_DATABASE_URL"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void missingDatabaseUrlSaysWhichVariableToSet() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(), Map.of()));
    assertTrue(e.getMessage().contains("OPSWATCH_DATABASE_URL"), e.getMessage());
  }
}
