package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Environment variables layered over the config files. Each value's origin says which variable
 * it came from, so that errors name it.
 */
final class EnvOverlay {
  private static final Map<String, String> PLAIN =
      Map.ofEntries(
          Map.entry("OPSWATCH_HTTP_PORT", "opswatch.http.port"),
          Map.entry("OPSWATCH_HTTP_BIND_ADDRESS", "opswatch.http.bind-address"),
          Map.entry("OPSWATCH_DATABASE_URL", "opswatch.database.url"),
          Map.entry("OPSWATCH_DATABASE_USER", "opswatch.database.user"),
          Map.entry("OPSWATCH_DATABASE_PASSWORD", "opswatch.database.password"),
          Map.entry("OPSWATCH_DATABASE_PASSWORD_FILE", "opswatch.database.password-file"),
          Map.entry("OPSWATCH_ADMIN_TOKEN", "opswatch.admin.token"),
          Map.entry("OPSWATCH_ADMIN_TOKEN_FILE", "opswatch.admin.token-file"),
          Map.entry("OPSWATCH_BILLING_TIME_ZONE", "opswatch.billing.time-zone"),
          Map.entry("BUDGET_TOTAL_EUR", "opswatch.budget.total-eur"));

  private static final String FORCE_PREFIX = "CONFIG_FORCE_";

  private EnvOverlay() {}

  static Config apply(Config config, Map<String, String> env) {
    Config result = config;
    // The app's generic DATABASE_URL is a fallback only: it never overrides a URL set in a file.
    boolean urlConfigured = config.hasPath("opswatch.database.url") && !config.getString("opswatch.database.url").isEmpty();
    if (!env.containsKey("OPSWATCH_DATABASE_URL") && env.containsKey("DATABASE_URL") && !urlConfigured) {
      result = set(result, "opswatch.database.url", env.get("DATABASE_URL"), "DATABASE_URL");
    }
    for (Map.Entry<String, String> e : PLAIN.entrySet()) {
      String value = env.get(e.getKey());
      if (value != null && !value.isEmpty()) {
        result = set(result, e.getValue(), value, e.getKey());
      }
    }
    result = applyProviderBudgets(result, env);
    return applyForced(result, env);
  }

  /** BUDGET_<PROVIDER>_EUR: a fixed provider's fee (the source app's meaning) or a metered one's budget. */
  private static Config applyProviderBudgets(Config config, Map<String, String> env) {
    Config result = config;
    if (!config.hasPath("opswatch.providers")) {
      return result;
    }
    ConfigObject providers = config.getObject("opswatch.providers");
    for (Map.Entry<String, ConfigValue> provider : providers.entrySet()) {
      String variable = "BUDGET_" + provider.getKey().toUpperCase(Locale.ROOT) + "_EUR";
      String value = env.get(variable);
      if (value == null || value.isEmpty() || !(provider.getValue() instanceof ConfigObject)) {
        continue;
      }
      String base = "opswatch.providers." + quote(provider.getKey());
      String kind = config.hasPath(base + ".kind") ? config.getString(base + ".kind") : "";
      String key = kind.equals("fixed") ? ".monthly-fee-eur" : ".budget-eur";
      result = set(result, base + key, value, variable);
    }
    return result;
  }

  /** Typesafe Config's CONFIG_FORCE_ convention: '_' is '.', '__' is '-', '___' is '_'. */
  private static Config applyForced(Config config, Map<String, String> env) {
    Config result = config;
    Map<String, String> forced = new LinkedHashMap<>();
    env.forEach(
        (name, value) -> {
          if (name.startsWith(FORCE_PREFIX)) {
            forced.put(name, value);
          }
        });
    for (Map.Entry<String, String> e : forced.entrySet()) {
      String path =
          e.getKey()
              .substring(FORCE_PREFIX.length())
              .replace("___", "\u0000")
              .replace("__", "-")
              .replace('_', '.')
              .replace('\u0000', '_');
      result = set(result, path, e.getValue(), e.getKey());
    }
    return result;
  }

  private static Config set(Config config, String path, String value, String variable) {
    return config.withValue(path, ConfigValueFactory.fromAnyRef(value, "environment variable " + variable));
  }

  private static String quote(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key + "\"";
  }
}
