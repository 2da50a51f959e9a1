package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import java.util.Set;
import java.util.TreeSet;

/** Rejects typos inside a config object ({@code limt = 5}) instead of silently ignoring them. */
public final class KnownKeys {
  private KnownKeys() {}

  /** Throws a BadValue naming the first key of the object at {@code path} that is not in {@code allowed}. */
  public static void check(Config config, String path, Set<String> allowed) {
    for (String key : new TreeSet<>(config.getObject(path).keySet())) {
      if (!allowed.contains(key)) {
        throw ConfigErrors.badValue(config, path + "." + quoted(key),
            "is not a known setting here (known: " + String.join(", ", new TreeSet<>(allowed)) + ")");
      }
    }
  }

  private static String quoted(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key.replace("\"", "\\\"") + "\"";
  }
}
