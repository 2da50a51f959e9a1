package dev.opswatch.exporter.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.model.Thresholds;
import dev.opswatch.exporter.testing.ConfigMistakes;
import dev.opswatch.exporter.testing.TestConfigs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class QuotaConfigTest {
  private static QuotaConfig parse(String hocon) {
    return QuotaConfig.parse(TestConfigs.layered(hocon, Map.of()).getConfig("opswatch"));
  }

  private static QuotaDefinition quota(QuotaConfig config, String id) {
    return config.quotas().stream().filter(q -> q.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void defaultsAreTheSourceAppsQuotas() {
    QuotaConfig c = parse("");
    assertEquals("external_api", c.category());
    assertEquals(Duration.ofMinutes(15), c.errorWindow());
    assertEquals(List.of("azure_openai", "brave_search", "google_drive"), c.providers().stream().map(QuotaProvider::id).toList());
    assertEquals(7, c.quotas().size());

    QuotaDefinition chatTokens = quota(c, "chat_tokens_per_minute");
    assertEquals(120000, chatTokens.limit());
    assertEquals(List.of("chat_completion"), chatTokens.actions());
    assertEquals(QuotaDefinition.Measure.SUM, chatTokens.measure());
    assertEquals(QuotaWindow.rolling(Duration.ofMinutes(1)), chatTokens.window());
    assertEquals(new Thresholds(0.80, 0.95), chatTokens.thresholds());
    assertEquals("Azure OpenAI", chatTokens.provider().displayName());
    assertEquals("azure_openai", chatTokens.provider().label());
    assertEquals("Chat Tokens/min", chatTokens.displayName());
    assertEquals(720, quota(c, "chat_requests_per_minute").limit());
    assertEquals(QuotaDefinition.Measure.COUNT, quota(c, "chat_requests_per_minute").measure());
    assertEquals(350000, quota(c, "embedding_tokens_per_minute").limit());
    assertEquals(150, quota(c, "tts_requests_per_minute").limit());

    QuotaDefinition driveMinute = quota(c, "queries_per_minute");
    assertEquals(12000, driveMinute.limit());
    assertEquals(List.of(), driveMinute.actions(), "every action counts");
    assertEquals(new Thresholds(0.70, 0.90), driveMinute.thresholds());
    QuotaDefinition driveDay = quota(c, "queries_per_day");
    assertEquals(1e9, driveDay.limit());
    assertEquals(QuotaWindow.rolling(Duration.ofHours(24)), driveDay.window());
    assertFalse(driveDay.window().fast());

    QuotaDefinition brave = quota(c, "queries_per_month");
    assertEquals(2000, brave.limit());
    assertEquals(QuotaWindow.month(), brave.window());
    assertEquals("month", brave.period());
    assertEquals(new Thresholds(0.50, 0.90), brave.thresholds());
    assertEquals(5, c.quotas().stream().filter(q -> q.window().fast()).count(), "the 1-minute quotas go to quotas_fast");
  }

  @Test
  void quotasAndProvidersCanBeAddedChangedAndRemoved() {
    QuotaConfig c = parse("""
        opswatch.quotas.providers.google_drive = null
        opswatch.quotas.providers.azure_openai.quotas.tts_requests_per_minute = null
        opswatch.quotas.providers.azure_openai.quotas.chat_tokens_per_minute { limit = 200000, critical-ratio = 0.99 }
        opswatch.quotas.providers.resend {
          label = "resend_email"
          quotas.emails_per_day { measure = count, window = 24h, limit = 3000, warning-ratio = 0.85 }
        }
        """);
    assertEquals(List.of("azure_openai", "brave_search", "resend"), c.providers().stream().map(QuotaProvider::id).toList());
    assertTrue(c.quotas().stream().noneMatch(q -> q.id().equals("tts_requests_per_minute")));
    assertEquals(200000, quota(c, "chat_tokens_per_minute").limit());
    assertEquals(new Thresholds(0.80, 0.99), quota(c, "chat_tokens_per_minute").thresholds(), "each threshold cascades on its own");
    QuotaDefinition emails = quota(c, "emails_per_day");
    assertEquals("resend_email", emails.provider().label());
    assertEquals("resend", emails.provider().displayName());
    assertEquals(new Thresholds(0.85, 0.95), emails.thresholds(), "critical from the section default");
  }

  static Stream<Arguments> mistakes() {
    return Stream.of(
        Arguments.of("opswatch.quotas.category = \"\"", "quotas.category", "TelemetryEvent category"),
        Arguments.of("opswatch.quotas.eror-window = 5m", "quotas.eror-window", "not a known setting"),
        Arguments.of("opswatch.quotas.error-window = 10s", "quotas.error-window", "at least 1m"),
        Arguments.of("opswatch.quotas.error-window = 2d", "quotas.error-window", "at most 24h"),
        Arguments.of("opswatch.quotas.warning-ratio = 1.5", "quotas.warning-ratio", "ratio above 0 and at most 1"),
        Arguments.of("opswatch.quotas.providers.\"Bad-Id\" { }", "quotas.providers.Bad-Id", "provider id must match"),
        Arguments.of("opswatch.quotas.providers.x = 5", "quotas.providers.x", "must be an object"),
        Arguments.of("opswatch.quotas.providers.brave_search.lable = \"b\"", "quotas.providers.brave_search.lable", "not a known setting"),
        Arguments.of("opswatch.quotas.providers.brave_search.label = \"google_drive\"", "quotas.providers.brave_search.label",
            "the same TelemetryEvent label 'google_drive'"),
        Arguments.of("opswatch.quotas.providers.brave_search.warning-ratio = 0.95", "quotas.providers.brave_search.warning-ratio",
            "above the critical ratio"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.\"Per Month\" { limit = 1 }",
            "quotas.providers.brave_search.quotas.Per Month", "quota id must match"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.limt = 5",
            "quotas.providers.brave_search.quotas.queries_per_month.limt", "not a known setting"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.measure = tokens",
            "quotas.providers.brave_search.quotas.queries_per_month.measure", "must be sum"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.window = monthly",
            "quotas.providers.brave_search.quotas.queries_per_month.window", "or month"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.window = 60d",
            "quotas.providers.brave_search.quotas.queries_per_month.window", "between 1s and 31d"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.window = 500ms",
            "quotas.providers.brave_search.quotas.queries_per_month.window", "between 1s and 31d"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.limit = 0",
            "quotas.providers.brave_search.quotas.queries_per_month.limit", "> 0"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.q { measure = count, window = 1m }",
            "quotas.providers.brave_search.quotas.q", "needs a limit"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.actions = [\"search\", \"\"]",
            "quotas.providers.brave_search.quotas.queries_per_month.actions", "empty action"),
        Arguments.of("opswatch.quotas.providers.brave_search.quotas.queries_per_month.critical-ratio = 0",
            "quotas.providers.brave_search.quotas.queries_per_month.critical-ratio", "ratio above 0"));
  }

  @ParameterizedTest
  @MethodSource("mistakes")
  void eachMistakeNamesItsKeyAndLine(String hocon, String path, String fragment) {
    ConfigMistakes.assertNamesKeyAndLine(() -> parse("# line 1\n" + hocon + "\n"), path, fragment);
  }

  @Test
  void aLimitThatIsNotANumberIsATypeError() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> parse("opswatch.quotas.providers.brave_search.quotas.queries_per_month.limit = lots\n"));
    assertTrue(e.getMessage().contains("String: 1") && e.getMessage().contains("limit"), e.getMessage());
  }
}
