package dev.opswatch.exporter.incident;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.opswatch.exporter.testing.ConfigMistakes;
import dev.opswatch.exporter.testing.TestConfigs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class IncidentConfigTest {
  private static IncidentConfig parse(String hocon) {
    return IncidentConfig.parse(TestConfigs.layered(hocon, Map.of()).getConfig("opswatch"));
  }

  @Test
  void defaults() {
    IncidentConfig c = parse("");
    assertEquals(Duration.ofHours(24), c.lookback());
    assertEquals(Duration.ofDays(30), c.unresolvedWindow());
    assertEquals(Duration.ofHours(24), c.recentWindow());
    assertEquals(20, c.recentLimit());
    assertEquals(11, c.knownTypes().size());
    assertEquals(List.of(
            new TelemetryCategory("circuit_breaker", Severity.S1, List.of()),
            new TelemetryCategory("external_api", Severity.S1, List.of("error", "fail")),
            new TelemetryCategory("safety_incident", Severity.S3, List.of())),
        c.telemetryCategories());
    assertEquals("error|fail", c.telemetryCategories().get(1).actionPattern());
  }

  @Test
  void typeLabelsStayBounded() {
    IncidentConfig c = parse("");
    assertEquals("jailbreak_attempt", c.typeLabel("jailbreak_attempt"));
    assertEquals("escalation", c.typeLabel("escalation_repeated_jailbreak"));
    assertEquals("other", c.typeLabel("Jailbreak_Attempt"));
    assertEquals("other", c.typeLabel("user typed this"));
    assertEquals("other", c.typeLabel(null));
    assertEquals(13, c.typeLabels().size());
  }

  @Test
  void severitiesMapAsTheSourceApp() {
    assertEquals(Optional.of(Severity.S0), Severity.ofSafetyEvent("info"));
    assertEquals(Optional.of(Severity.S1), Severity.ofSafetyEvent("warning"));
    assertEquals(Optional.of(Severity.S2), Severity.ofSafetyEvent("alert"));
    assertEquals(Optional.of(Severity.S3), Severity.ofSafetyEvent("critical"));
    assertEquals(Optional.empty(), Severity.ofSafetyEvent("Critical"));
    assertEquals(Optional.empty(), Severity.ofSafetyEvent(null));
  }

  @Test
  void categoriesCanBeChangedAndRemoved() {
    IncidentConfig c = parse("""
        opswatch.incidents.telemetry-categories.circuit_breaker = null
        opswatch.incidents.telemetry-categories.external_api.action-contains = [Timeout]
        opswatch.incidents.telemetry-categories.security { severity = S2 }
        """);
    assertEquals(List.of(
            new TelemetryCategory("external_api", Severity.S1, List.of("timeout")),
            new TelemetryCategory("safety_incident", Severity.S3, List.of()),
            new TelemetryCategory("security", Severity.S2, List.of())),
        c.telemetryCategories());
  }

  static Stream<Arguments> mistakes() {
    return Stream.of(
        Arguments.of("opswatch.incidents.lookback = 10s", "incidents.lookback", "at least 1m"),
        Arguments.of("opswatch.incidents.lookback = 100d", "incidents.lookback", "at most 90d"),
        Arguments.of("opswatch.incidents.unresolved-window = 400d", "incidents.unresolved-window", "at most 366d"),
        Arguments.of("opswatch.incidents.recent.limit = 0", "incidents.recent.limit", "between 1 and 100"),
        Arguments.of("opswatch.incidents.recent.limit = 500", "incidents.recent.limit", "between 1 and 100"),
        Arguments.of("opswatch.incidents.recent.window = 30d", "incidents.recent.window", "at most 7d"),
        Arguments.of("opswatch.incidents.recent.size = 5", "incidents.recent.size", "not a known setting"),
        Arguments.of("opswatch.incidents.lookbak = 1h", "incidents.lookbak", "not a known setting"),
        Arguments.of("opswatch.incidents.known-types = [input_blocked, \"Bad Type\"]", "incidents.known-types", "must match"),
        Arguments.of("opswatch.incidents.known-types = [other]", "incidents.known-types", "not be escalation or other"),
        Arguments.of("opswatch.incidents.telemetry-categories.circuit_breaker.severity = S4",
            "incidents.telemetry-categories.circuit_breaker.severity", "S0, S1, S2 or S3"),
        Arguments.of("opswatch.incidents.telemetry-categories.external_api.action-contains = [\"err or\"]",
            "incidents.telemetry-categories.external_api.action-contains", "letters, digits"),
        Arguments.of("opswatch.incidents.telemetry-categories.external_api.actions = [x]",
            "incidents.telemetry-categories.external_api.actions", "not a known setting"),
        Arguments.of("opswatch.incidents.telemetry-categories.\"Safety\" { severity = S3 }",
            "incidents.telemetry-categories.Safety", "category name"),
        Arguments.of("opswatch.incidents.telemetry-categories.security = S2",
            "incidents.telemetry-categories.security", "object value"));
  }

  @ParameterizedTest
  @MethodSource("mistakes")
  void eachMistakeNamesItsKeyAndLine(String hocon, String path, String fragment) {
    ConfigMistakes.assertNamesKeyAndLine(() -> parse("# line 1\n" + hocon + "\n"), path, fragment);
  }
}
