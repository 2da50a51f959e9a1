package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.Set;
import java.util.TreeSet;

/**
 * Rejects keys that no schema knows ({@code limt = 5}, {@code billing.timezone}) instead of silently
 * ignoring them: the error names the key, where it was set (file:line or environment variable) and
 * the nearest known key.
 */
public final class KnownKeys {
  private KnownKeys() {}

  /** Throws a BadValue naming the first key of the object at {@code path} that is not in {@code allowed}. */
  public static void check(Config config, String path, Set<String> allowed) {
    for (String key : new TreeSet<>(config.getObject(path).keySet())) {
      if (!allowed.contains(key)) {
        throw unknown(config, path + "." + quoted(key), key, allowed);
      }
    }
  }

  /**
   * Checks every key under {@code actual} against {@code schema} (reference.conf), at every depth.
   * Objects whose keys are ids the user chooses ({@code idMaps}, paths relative to the root) are
   * left to the parser of that section, which knows their entries' own keys.
   */
  public static void checkAgainst(Config config, ConfigObject actual, ConfigObject schema, String path, Set<String> idMaps) {
    for (String key : new TreeSet<>(actual.keySet())) {
      String childPath = path.isEmpty() ? quoted(key) : path + "." + quoted(key);
      ConfigValue known = schema.get(key);
      if (known == null) {
        throw unknown(config, childPath, key, schema.keySet());
      }
      ConfigValue value = actual.get(key);
      if (!idMaps.contains(childPath) && value.valueType() == ConfigValueType.OBJECT && known.valueType() == ConfigValueType.OBJECT) {
        checkAgainst(config, (ConfigObject) value, (ConfigObject) known, childPath, idMaps);
      }
    }
  }

  private static RuntimeException unknown(Config config, String path, String key, Set<String> allowed) {
    return ConfigErrors.badValue(config, path, "is not a known setting" + Nearest.hint(key, allowed)
        + " (known here: " + String.join(", ", new TreeSet<>(allowed)) + ")");
  }

  static String quoted(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key.replace("\"", "\\\"") + "\"";
  }
}
