package dev.opswatch.exporter.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.testing.ConfigMistakes;
import dev.opswatch.exporter.testing.TestConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ProbeConfigTest {
  @TempDir Path dir;

  private static ProbeConfig parse(String hocon, Map<String, String> env) {
    return ProbeConfig.parse(TestConfigs.layered(hocon, Map.of()).getConfig("opswatch"), env);
  }

  @Test
  void defaultsProbeTheAppOnlyWhenItsUrlIsSet() {
    ProbeConfig c = parse("", Map.of());
    assertEquals(Duration.ofSeconds(2), c.connectTimeout());
    assertEquals(Duration.ofSeconds(5), c.readTimeout());
    assertEquals(Duration.ofSeconds(8), c.callTimeout());
    assertEquals(4, c.maxConcurrent());
    String fromEnv = System.getenv("OPSWATCH_APP_HEALTH_URL");
    if (fromEnv == null || fromEnv.isBlank()) {
      assertEquals(List.of(), c.targets(), "no URL, no probe, no error");
    } else {
      assertEquals("app", c.targets().get(0).name());
    }
    ProbeConfig app = parse("opswatch.probes.targets.app.url = \"https://app.example.com/api/health\"", Map.of());
    ProbeTarget target = app.targets().get(0);
    assertEquals("app", target.name());
    assertEquals("https://app.example.com/api/health", target.url());
    assertEquals(List.of("database", "ai_provider", "memory"), target.checks());
    assertEquals(Optional.empty(), target.bearerToken());
  }

  @Test
  void tokensComeFromAnEnvironmentVariableOrAFileAndAreNeverPrinted() throws IOException {
    Path file = dir.resolve("token");
    Files.writeString(file, "file-secret\n");
    ProbeConfig c = parse("""
        opswatch.probes.targets {
          detailed { url = "https://app.example.com/api/health/detailed", bearer-token-env = HEALTH_SECRET, checks = [database] }
          other { url = "http://10.0.0.5:3000/api/health", bearer-token-file = "%s" }
        }
        """.formatted(file), Map.of("HEALTH_SECRET", "env-secret"));
    ProbeTarget detailed = c.targets().get(0);
    assertEquals(Optional.of("env-secret"), detailed.bearerToken());
    assertEquals(List.of("database"), detailed.checks());
    assertEquals(Optional.of("file-secret"), c.targets().get(1).bearerToken());
    assertFalse(c.toString().contains("secret"), c.toString());
  }

  @Test
  void aTargetCanBeRemoved() {
    ProbeConfig c = parse("""
        opswatch.probes.targets.app.url = "https://app.example.com/api/health"
        opswatch.probes.targets.app = null
        """, Map.of());
    assertTrue(c.targets().isEmpty());
  }

  static Stream<Arguments> mistakes() {
    return Stream.of(
        Arguments.of("opswatch.probes.connect-timeout = 10ms", "probes.connect-timeout", "at least"),
        Arguments.of("opswatch.probes.call-timeout = 2m", "probes.call-timeout", "at most 60s"),
        Arguments.of("opswatch.probes.max-concurrent = 0", "probes.max-concurrent", "between 1 and 32"),
        Arguments.of("opswatch.probes.max-concurrent = 100", "probes.max-concurrent", "between 1 and 32"),
        Arguments.of("opswatch.probes.max-concurrent = 1.5", "probes.max-concurrent", "between 1 and 32"),
        Arguments.of("opswatch.probes.redirects = any", "probes.redirects", "same-origin or none"),
        Arguments.of("opswatch.probes.timeout = 1s", "probes.timeout", "not a known setting"),
        Arguments.of("opswatch.probes.checks = [database, \"AI provider\"]", "probes.checks", "must match"),
        Arguments.of("opswatch.probes.targets.app.url = \"ftp://app/health\"", "probes.targets.app.url", "http:// or https://"),
        Arguments.of("opswatch.probes.targets.app.url = \"not a url\"", "probes.targets.app.url", "http:// or https://"),
        Arguments.of("opswatch.probes.targets.app.uri = \"http://x\"", "probes.targets.app.uri", "not a known setting"),
        Arguments.of("opswatch.probes.targets.\"App-1\".url = \"http://x\"", "probes.targets.App-1", "target name"),
        Arguments.of("opswatch.probes.targets.app { url = \"http://x\", bearer-token-env = OPSWATCH_TEST_SURELY_UNSET }",
            "probes.targets.app.bearer-token-env", "OPSWATCH_TEST_SURELY_UNSET, which is not set"),
        Arguments.of("opswatch.probes.targets.app { url = \"http://x\", bearer-token-file = \"/nonexistent/token\" }",
            "probes.targets.app.bearer-token-file", "cannot read file"),
        Arguments.of("opswatch.probes.targets.app { url = \"http://x\", bearer-token-env = T, bearer-token-file = \"%TOKEN%\" }",
            "probes.targets.app.bearer-token-env", "not both"));
  }

  @ParameterizedTest
  @MethodSource("mistakes")
  void eachMistakeNamesItsKeyAndLine(String hocon, String path, String fragment) throws IOException {
    Path token = dir.resolve("token");
    Files.writeString(token, "t");
    String config = "# line 1\n" + hocon.replace("%TOKEN%", token.toString()) + "\n";
    ConfigMistakes.assertNamesKeyAndLine(() -> parse(config, Map.of("T", "t")), path, fragment);
  }
}
