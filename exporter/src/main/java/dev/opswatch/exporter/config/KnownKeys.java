package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
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
      ConfigValue value = actual.get(key);
      if (known == null) {
        // Where it was set: an object made by a path (CONFIG_FORCE_x_y_z) has no origin of its own.
        throw new ConfigException.BadValue(leaf(value).origin(), childPath, "is not a known setting"
            + Nearest.to(key, schema.keySet()).or(() -> Nearest.to(dashed(key, value), schema.keySet()))
                .map(n -> "; did you mean " + n + "?").orElse("") + " (known here: " + String.join(", ", new TreeSet<>(schema.keySet())) + ")");
      }
      if (!idMaps.contains(childPath) && value.valueType() == ConfigValueType.OBJECT && known.valueType() == ConfigValueType.OBJECT) {
        checkAgainst(config, (ConfigObject) value, (ConfigObject) known, childPath, idMaps);
      }
    }
  }

  private static RuntimeException unknown(Config config, String path, String key, Set<String> allowed) {
    return ConfigErrors.badValue(config, path, "is not a known setting" + Nearest.hint(key, allowed)
        + " (known here: " + String.join(", ", new TreeSet<>(allowed)) + ")");
  }

  /**
   * The key with its single-child path joined by '-': {@code bind.address} (as CONFIG_FORCE_..._bind_address
   * makes it, where '-' must be written '__') is most likely {@code bind-address}.
   */
  private static String dashed(String key, ConfigValue value) {
    StringBuilder typed = new StringBuilder(key);
    ConfigValue v = value;
    while (v instanceof ConfigObject object && object.size() == 1) {
      String child = object.keySet().iterator().next();
      typed.append('-').append(child);
      v = object.get(child);
    }
    return typed.toString();
  }

  private static ConfigValue leaf(ConfigValue value) {
    if (value instanceof ConfigObject object && !object.isEmpty()) {
      return leaf(object.get(new TreeSet<>(object.keySet()).first()));
    }
    return value;
  }

  static String quoted(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key.replace("\"", "\\\"") + "\"";
  }
}
