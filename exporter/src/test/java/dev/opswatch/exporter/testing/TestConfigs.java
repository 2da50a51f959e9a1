package dev.opswatch.exporter.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.opswatch.exporter.config.ConfigLoader;
import dev.opswatch.exporter.config.ExporterConfig;
import java.util.Map;

/** Exporter configs for tests: reference.conf plus HOCON overrides, on a free port. */
public final class TestConfigs {
  private TestConfigs() {}

  /** A config pointing at {@code db}, with fast refreshes and {@code hocon} layered on top. */
  public static ExporterConfig forDatabase(TestDatabase db, String hocon) {
    return parse(
        "opswatch.http.port = 0\n"
            + "opswatch.http.bind-address = \"127.0.0.1\"\n"
            + "opswatch.database.url = \"" + db.appUrl() + "\"\n"
            + "opswatch.sources.jitter = 0\n"
            + hocon);
  }

  public static ExporterConfig parse(String hocon) {
    return parse(hocon, Map.of());
  }

  /** @param env the environment the exporter would see */
  public static ExporterConfig parse(String hocon, Map<String, String> env) {
    return ConfigLoader.parse(layered(hocon, env), env);
  }

  public static Config layered(String hocon, Map<String, String> env) {
    Config user = ConfigFactory.parseString(hocon);
    return user.withFallback(ConfigLoader.layered(java.util.Optional.empty(), env)).resolve();
  }
}
