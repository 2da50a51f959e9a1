package dev.opswatch.exporter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.MainAccess;
import dev.opswatch.exporter.config.ConfigLoader;
import dev.opswatch.exporter.testing.ConfigMistakes;
import dev.opswatch.exporter.testing.TestConfigs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** opswatch.http's limits, the bind address and the admin token's minimum length (issues #19 item 7, #20 item 6). */
class HttpSettingsTest {
  private static final String DB = "postgresql://app@db/app";

  @Test
  void defaultsAreReferenceConfs() {
    assertEquals(HttpSettings.DEFAULTS, HttpSettings.parse(TestConfigs.layered("", Map.of()).getConfig("opswatch")));
    assertEquals(new HttpSettings(512, 32, Duration.ofSeconds(3)), HttpSettings.DEFAULTS);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', textBlock = """
      opswatch.admin.token = "a"                          | admin.token                      | at least 16 characters, got 1
      opswatch.admin.token = "fifteen-chars-x"            | admin.token                      | at least 16 characters, got 15
      opswatch.admin.token = "sixteen chars ok"           | admin.token                      | printable ASCII without spaces
      opswatch.http.max-connections = 0                   | http.max-connections             | between 1 and 10000
      opswatch.http.max-connections-per-address = 1.5     | http.max-connections-per-address | between 1 and 10000
      opswatch.http.request-header-timeout = 10ms         | http.request-header-timeout      | at least
      opswatch.http.request-header-timeout = 2m           | http.request-header-timeout      | at most 60s
      opswatch.http.bind-address = "0.0.0.0 # all"        | http.bind-address                | must be an IP address
      """)
  void eachMistakeNamesItsKeyAndLine(String hocon, String path, String fragment) {
    ConfigMistakes.assertNamesKeyAndLine(
        () -> HttpSettings.parse(TestConfigs.layered("# line 1\n" + hocon + "\n", Map.of()).getConfig("opswatch")), path, fragment);
  }

  @Test
  void aShortTokenFromTheEnvironmentNamesTheVariableNeverTheToken() {
    ConfigException e = assertThrows(ConfigException.class, () -> HttpSettings.parse(
        ConfigLoader.load(Optional.empty(), Map.of("OPSWATCH_DATABASE_URL", DB, "OPSWATCH_ADMIN_TOKEN", "hunter2"))));
    assertTrue(e.getMessage().contains("OPSWATCH_ADMIN_TOKEN"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  /** Main's config path (exit code 2): one line on stderr, naming the key. */
  @Test
  void checkConfigRefusesAShortToken() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    boolean ok = MainAccess.loadConfig(new String[] {"--check-config"},
        Map.of("OPSWATCH_DATABASE_URL", DB, "OPSWATCH_ADMIN_TOKEN", "hunter2"), new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String line = err.toString(StandardCharsets.UTF_8);
    assertFalse(ok);
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.contains("admin.token") && line.contains("at least 16 characters"), line);
  }

  @Test
  void bindAddressFromTheEnvironment() {
    var config = ConfigLoader.load(Optional.empty(), Map.of("OPSWATCH_DATABASE_URL", DB, "OPSWATCH_HTTP_BIND_ADDRESS", "127.0.0.1"));
    assertEquals("127.0.0.1", config.http().bindAddress());
    assertEquals("0.0.0.0", ConfigLoader.load(Optional.empty(), Map.of("OPSWATCH_DATABASE_URL", DB)).http().bindAddress());
  }
}
