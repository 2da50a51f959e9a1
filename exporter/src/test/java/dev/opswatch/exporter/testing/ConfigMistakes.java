package dev.opswatch.exporter.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import org.junit.jupiter.api.function.Executable;

/** What every config mistake must produce: one line naming where it was set, the key and the problem. */
public final class ConfigMistakes {
  private ConfigMistakes() {}

  /** Parsing a config whose mistake is on its line 2 must fail so. */
  public static void assertNamesKeyAndLine(Executable parse, String path, String fragment) {
    ConfigException e = assertThrows(ConfigException.class, parse);
    assertTrue(e.getMessage().startsWith("String: 2: "), "names where it was set: " + e.getMessage());
    assertTrue(e.getMessage().contains(path), "names the key " + path + ": " + e.getMessage());
    assertTrue(e.getMessage().contains(fragment), "says what is wrong (" + fragment + "): " + e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }
}
