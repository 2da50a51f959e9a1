package dev.opswatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.MainAccess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * opswatch.http's client limits, the bind address and the admin token's minimum length (issues #19
 * item 7, #20 item 6), parsed with the rest of the config by {@link ConfigLoader}.
 */
class HttpConfigTest {
  private static final Map<String, String> DB = Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app");

  @TempDir Path dir;

  @Test
  void defaultsAreReferenceConfs() {
    ExporterConfig.Http http = ConfigLoader.load(Optional.empty(), DB).http();
    assertEquals(ExporterConfig.ClientLimits.DEFAULTS, http.limits());
    assertEquals(new ExporterConfig.ClientLimits(512, 32, Duration.ofSeconds(3)), ExporterConfig.ClientLimits.DEFAULTS);
    assertEquals("0.0.0.0", http.bindAddress());
  }

  @Test
  void limitsAreRead() throws IOException {
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, "opswatch.http { max-connections = 64, max-connections-per-address = 4, request-header-timeout = 500ms }\n");
    assertEquals(new ExporterConfig.ClientLimits(64, 4, Duration.ofMillis(500)), ConfigLoader.load(Optional.of(file), DB).http().limits());
  }

  @ParameterizedTest(name = "{1}: {2}")
  @CsvSource(delimiter = '|', textBlock = """
      opswatch.admin.token = "a"                                  | admin.token                      | at least 16 characters, got 1
      opswatch.admin.token = "fifteen-chars-x"                    | admin.token                      | at least 16 characters, got 15
      opswatch.admin.token = "sixteen chars ok"                   | admin.token                      | printable ASCII without spaces
      opswatch.http.max-connections = 0                           | http.max-connections             | between 1 and 10000
      opswatch.http.max-connections-per-address = 1.5             | http.max-connections-per-address | between 1 and 10000, got 1.5
      opswatch.http { max-connections = 10, max-connections-per-address = 20 } | http.max-connections-per-address | at most http.max-connections (10)
      opswatch.http.request-header-timeout = 10ms                 | http.request-header-timeout      | at least 100ms
      opswatch.http.request-header-timeout = 2m                   | http.request-header-timeout      | at most 60s
      opswatch.http.request-header-timeout = soon                 | http.request-header-timeout      | a duration such as 15s
      opswatch.http.bind-address = "0.0.0.0 # all"                | http.bind-address                | must be an IP address
      """)
  void eachMistakeNamesItsKeyAndLine(String line, String path, String fragment) throws IOException {
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, "# line 1\n" + line + "\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.of(file), DB));
    String text = ConfigErrors.oneLine(e);
    assertTrue(text.contains("opswatch.conf: 2"), () -> "names file:line: " + text);
    assertTrue(text.contains(path), () -> "names the key " + path + ": " + text);
    assertTrue(text.contains(fragment), () -> "says what is wrong (" + fragment + "): " + text);
    assertEquals(1, e.getMessage().lines().count(), text);
  }

  @Test
  void aShortTokenFileNamesTheFileKeyNeverTheToken() throws IOException {
    Path token = dir.resolve("token");
    Files.writeString(token, "hunter2\n");
    Path file = dir.resolve("opswatch.conf");
    Files.writeString(file, "# line 1\nopswatch.admin.token-file = \"" + token + "\"\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.of(file), DB));
    assertTrue(e.getMessage().contains("admin.token-file") && e.getMessage().contains("opswatch.conf: 2"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void aShortTokenFromTheEnvironmentNamesTheVariableNeverTheToken() {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Optional.empty(),
        Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "OPSWATCH_ADMIN_TOKEN", "hunter2")));
    assertTrue(e.getMessage().contains("OPSWATCH_ADMIN_TOKEN"), e.getMessage());
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void aLongEnoughTokenIsKept() {
    String token = "0123456789abcdef";
    ExporterConfig config = ConfigLoader.load(Optional.empty(),
        Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "OPSWATCH_ADMIN_TOKEN", token));
    assertEquals(Optional.of(token), config.adminToken());
  }

  /** Main's config path (exit code 2): one line on stderr, naming the key. */
  @Test
  void checkConfigRefusesAShortToken() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = MainAccess.run(new String[] {"--check-config"},
        Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "OPSWATCH_ADMIN_TOKEN", "hunter2"),
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    String line = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, line);
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.contains("admin.token") && line.contains("at least 16 characters"), line);
    assertFalse(line.contains("hunter2"), line);
  }

  @Test
  void bindAddressFromTheEnvironment() {
    var config = ConfigLoader.load(Optional.empty(),
        Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app", "OPSWATCH_HTTP_BIND_ADDRESS", "127.0.0.1"));
    assertEquals("127.0.0.1", config.http().bindAddress());
  }
}
