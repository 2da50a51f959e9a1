package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Environment variables layered over the config files. Each value's origin says which variable
 * it came from, so that errors name it. Our prefixes are checked strictly: an {@code OPSWATCH_*} or
 * {@code BUDGET_*_EUR} variable that sets nothing is an error naming the nearest known variable,
 * and a {@code CONFIG_FORCE_*} path is checked like any key (see {@link ConfigLoader}).
 */
final class EnvOverlay {
  /** Variables that set one key each. */
  static final Map<String, String> PLAIN =
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

  /** The exporter's other variables: read by Main, the start script or reference.conf. */
  static final Set<String> OTHER_EXPORTER_VARIABLES =
      Set.of("OPSWATCH_CONFIG", "OPSWATCH_LOG_LEVEL", "OPSWATCH_APP_HEALTH_URL", "OPSWATCH_JAR");

  /**
   * Variables of the other opswatch tools (runbooks, tests, the database role script), which may
   * share the exporter's environment; {@code EnvVariablesTest} keeps this list in step with them.
   */
  static final Set<String> OTHER_TOOLS =
      Set.of("OPSWATCH_REPO_ROOT", "OPSWATCH_SQL_DIR", "OPSWATCH_DEV_WAIT", "OPSWATCH_AUDIT_LOG",
          "OPSWATCH_POLL_INTERVAL", "OPSWATCH_HEALTH_TIMEOUT", "OPSWATCH_REQUIRE_HEALTHY", "OPSWATCH_RECOVERY_ALERTS",
          "OPSWATCH_DEPLOYMENT_LIMIT", "OPSWATCH_DB_CONNECT_TIMEOUT", "OPSWATCH_BUILD_TIMEOUT", "OPSWATCH_ALERTS_TIMEOUT",
          "OPSWATCH_PROMOTE_TIMEOUT", "OPSWATCH_HTTP_TIMEOUT", "OPSWATCH_READER_PASSWORD", "OPSWATCH_READER_PASSWORD_FILE",
          // runbooks/, docker-compose.yml and grafana/test/ (merged after this list was last updated)
          "OPSWATCH_CREATE_LOOKUP_TIMEOUT", "OPSWATCH_HTTP_RETRIES", "OPSWATCH_RETRY_BASE", "OPSWATCH_RETRY_MAX_WAIT",
          "OPSWATCH_GRAFANA_PASSWORD", "OPSWATCH_GRAFANA_PASSWORD_FILE", "OPSWATCH_LIVE_ALERTMANAGER",
          "OPSWATCH_LIVE_POSTGRES_URL", "OPSWATCH_LIVE_PROMETHEUS", "OPSWATCH_LIVE_TIME_FROM");
  /** Test harness variables (OPSWATCH_TEST_DATABASE_URL, ...). */
  static final String TEST_PREFIX = "OPSWATCH_TEST_";

  private static final String FORCE_PREFIX = "CONFIG_FORCE_";

  private EnvOverlay() {}

  static Config apply(Config config, Map<String, String> env) {
    Config result = config;
    // The app's generic DATABASE_URL is a fallback only: it never overrides a URL set in a file.
    boolean urlConfigured = config.hasPath("opswatch.database.url") && !config.getString("opswatch.database.url").isEmpty();
    if (!env.containsKey("OPSWATCH_DATABASE_URL") && env.containsKey("DATABASE_URL") && !urlConfigured) {
      result = set(result, "opswatch.database.url", env.get("DATABASE_URL"), "DATABASE_URL");
    }
    checkOwnVariables(env);
    for (Map.Entry<String, String> e : new TreeMap<>(PLAIN).entrySet()) {
      String value = env.get(e.getKey());
      if (value != null && !value.isEmpty()) {
        result = set(result, e.getValue(), value, e.getKey());
      }
    }
    result = applyProviderBudgets(result, env);
    return applyForced(result, env);
  }

  /** An OPSWATCH_* variable that nothing reads is a typo: say which one was meant. */
  private static void checkOwnVariables(Map<String, String> env) {
    Set<String> known = new TreeSet<>(PLAIN.keySet());
    known.addAll(OTHER_EXPORTER_VARIABLES);
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith("OPSWATCH_") && !known.contains(name) && !OTHER_TOOLS.contains(name) && !name.startsWith(TEST_PREFIX)) {
        throw ConfigErrors.environment(name, "is not a setting of the exporter" + Nearest.hint(name, known)
            + " (see the README's table of variables)");
      }
    }
  }

  /** BUDGET_<PROVIDER>_EUR: a fixed provider's fee (the source app's meaning) or a metered one's budget. */
  private static Config applyProviderBudgets(Config config, Map<String, String> env) {
    Map<String, String> byVariable = new TreeMap<>();
    if (config.hasPath("opswatch.providers")) {
      ConfigObject providers = config.getObject("opswatch.providers");
      for (Map.Entry<String, ConfigValue> provider : providers.entrySet()) {
        if (provider.getValue() instanceof ConfigObject) {
          byVariable.put("BUDGET_" + provider.getKey().toUpperCase(Locale.ROOT) + "_EUR", provider.getKey());
        }
      }
    }
    Config result = config;
    for (String variable : new TreeSet<>(env.keySet())) {
      if (!variable.startsWith("BUDGET_") || !variable.endsWith("_EUR") || variable.equals("BUDGET_TOTAL_EUR")) {
        continue;
      }
      String provider = byVariable.get(variable);
      if (provider == null) {
        Set<String> known = new TreeSet<>(byVariable.keySet());
        known.add("BUDGET_TOTAL_EUR");
        throw ConfigErrors.environment(variable, "matches no provider" + Nearest.hint(variable, known)
            + " (known: " + String.join(", ", known) + ")");
      }
      String value = env.get(variable);
      if (value.isEmpty()) {
        continue;
      }
      String base = "opswatch.providers." + KnownKeys.quoted(provider);
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
    new TreeMap<>(env).forEach((name, value) -> {
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
      if (!path.startsWith("opswatch.")) {
        throw ConfigErrors.environment(e.getKey(), "sets " + path + ", which is not under opswatch. (e.g. CONFIG_FORCE_opswatch_http_port)");
      }
      result = set(result, path, e.getValue(), e.getKey());
    }
    return result;
  }

  private static Config set(Config config, String path, String value, String variable) {
    return config.withValue(path, ConfigValueFactory.fromAnyRef(value, "environment variable " + variable));
  }
}
