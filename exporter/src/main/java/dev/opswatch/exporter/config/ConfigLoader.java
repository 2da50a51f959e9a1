package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.model.Thresholds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Loads reference.conf, the user's file and the environment, in that order of precedence
 * (last wins), and validates the result. Every problem is a {@link ConfigException} whose
 * message names the key and where it was set.
 */
public final class ConfigLoader {
  private static final String ROOT = "opswatch";
  private static final String PROVIDER_ID = "[a-z][a-z0-9_]*";

  private ConfigLoader() {}

  /** Layers the files and the environment; does not validate. */
  public static Config layered(Optional<Path> userFile, Map<String, String> env) {
    Config reference = ConfigFactory.parseResources("reference.conf");
    Config user = ConfigFactory.empty();
    if (userFile.isPresent()) {
      Path file = userFile.get();
      if (!Files.isReadable(file)) {
        throw new ConfigException.Generic("config file " + file + " does not exist or is not readable");
      }
      user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    }
    Config merged = user.withFallback(reference);
    return EnvOverlay.apply(merged, env).resolve();
  }

  public static ExporterConfig load(Optional<Path> userFile, Map<String, String> env) {
    return parse(layered(userFile, env));
  }

  public static ExporterConfig parse(Config root) {
    Config c = root.getConfig(ROOT);
    checkKnownKeys(root);
    Thresholds defaults = thresholds(c, "budget", null);
    ExporterConfig.Budget budget = new ExporterConfig.Budget(nonNegative(c, "budget.total-eur"), defaults);
    Map<String, CostQueryConfig> queries = costQueries(c);
    List<ProviderConfig> providers = providers(c, defaults, queries, budget.totalEur());
    return new ExporterConfig(
        http(c),
        Secrets.read(c, "admin.token", "admin.token-file"),
        database(c),
        billing(c),
        budget,
        providers,
        queries,
        positive(c, "max-row-cost-eur"),
        sources(c),
        root);
  }

  private static ExporterConfig.Http http(Config c) {
    // 0 picks a free port (tests use it); the message names the real range.
    int port = integer(c, "http.port", 0, 65535, "must be between 1 and 65535");
    int threads = integer(c, "http.threads", 1, 256, "must be between 1 and 256");
    Optional<ExporterConfig.BasicAuth> basicAuth = Optional.empty();
    String username = c.getString("http.basic-auth.username");
    if (!username.isEmpty()) {
      String password =
          Secrets.readFile(c, "http.basic-auth.password-file")
              .orElseThrow(() -> ConfigErrors.badValue(c, "http.basic-auth.password-file", "is required when a username is set"));
      basicAuth = Optional.of(new ExporterConfig.BasicAuth(username, password));
    }
    Optional<ExporterConfig.Tls> tls = Optional.empty();
    String keystore = c.getString("http.tls.keystore-file");
    if (!keystore.isEmpty()) {
      if (!Files.isReadable(Path.of(keystore))) {
        throw ConfigErrors.badValue(c, "http.tls.keystore-file", "cannot read file " + keystore);
      }
      String password =
          Secrets.readFile(c, "http.tls.keystore-password-file")
              .orElseThrow(() -> ConfigErrors.badValue(c, "http.tls.keystore-password-file", "is required with a keystore"));
      tls = Optional.of(new ExporterConfig.Tls(Path.of(keystore), password));
    }
    return new ExporterConfig.Http(c.getString("http.bind-address"), port, threads, basicAuth, tls);
  }

  private static ExporterConfig.Database database(Config c) {
    DatabaseUrl url;
    try {
      url = DatabaseUrl.parse(c.getString("database.url"));
    } catch (IllegalArgumentException e) {
      throw ConfigErrors.badValue(c, "database.url", e.getMessage());
    }
    String password = Secrets.read(c, "database.password", "database.password-file").orElse("");
    url = url.withCredentials(c.getString("database.user"), password);
    int poolSize = integer(c, "database.pool-size", 1, 2, "must be 1 or 2 (the exporter must never crowd the app's database)");
    return new ExporterConfig.Database(
        url,
        poolSize,
        positive(c, "database.connect-timeout", Duration.ofMillis(250)),
        positive(c, "database.acquire-timeout", Duration.ofMillis(250)),
        positive(c, "database.statement-timeout", Duration.ofMillis(1)),
        positive(c, "database.socket-timeout", Duration.ofSeconds(1)),
        c.getString("database.application-name"));
  }

  private static ExporterConfig.Billing billing(Config c) {
    ZoneId zone;
    try {
      zone = ZoneId.of(c.getString("billing.time-zone"));
    } catch (DateTimeException e) {
      throw ConfigErrors.badValue(c, "billing.time-zone", "is not a time zone id such as UTC or Europe/Rome");
    }
    return new ExporterConfig.Billing(zone, positive(c, "billing.forecast-min-elapsed", Duration.ofMinutes(1)));
  }

  private static ExporterConfig.Sources sources(Config c) {
    double jitter = c.getDouble("sources.jitter");
    if (jitter < 0 || jitter > 0.5) {
      throw ConfigErrors.badValue(c, "sources.jitter", "must be between 0 and 0.5, got " + jitter);
    }
    Duration staleness = positive(c, "sources.staleness-limit", Duration.ofSeconds(1));
    Config perSource = c.getConfig("sources");
    for (Map.Entry<String, ConfigValue> e : perSource.root().entrySet()) {
      if (e.getValue().valueType() == ConfigValueType.OBJECT) {
        positive(c, "sources." + e.getKey() + ".refresh-interval", Duration.ofSeconds(1));
        if (c.hasPath("sources." + e.getKey() + ".closed-days-refresh")) {
          positive(c, "sources." + e.getKey() + ".closed-days-refresh", Duration.ZERO);
        }
      }
    }
    return new ExporterConfig.Sources(jitter, staleness, perSource);
  }

  private static Map<String, CostQueryConfig> costQueries(Config c) {
    Map<String, CostQueryConfig> result = new LinkedHashMap<>();
    ConfigObject object = c.getObject("cost-queries");
    for (String name : object.keySet()) {
      String base = "cost-queries." + name;
      if (object.get(name).valueType() == ConfigValueType.NULL) {
        continue;
      }
      Config q = c.getConfig(base);
      String sql = q.hasPath("sql") ? q.getString("sql").strip() : "";
      if (sql.isEmpty()) {
        throw ConfigErrors.badValue(c, base + ".sql", "a cost query needs its SQL");
      }
      Map<String, Object> parameters = new LinkedHashMap<>();
      for (Map.Entry<String, ConfigValue> p : q.root().entrySet()) {
        if (!p.getKey().equals("sql") && !p.getKey().equals("model")) {
          parameters.put(p.getKey().replace('-', '_'), p.getValue().unwrapped());
        }
      }
      result.put(name, new CostQueryConfig(name, sql, q.hasPath("model") ? q.getString("model") : "", parameters));
    }
    return result;
  }

  private static List<ProviderConfig> providers(
      Config c, Thresholds defaults, Map<String, CostQueryConfig> queries, double totalBudget) {
    ConfigObject object = c.getObject("providers");
    List<ProviderConfig> providers = new ArrayList<>();
    String remainderProvider = null;
    double allocated = 0;
    for (String id : object.keySet()) {
      if (object.get(id).valueType() == ConfigValueType.NULL) {
        continue;
      }
      String base = "providers." + id;
      if (!id.matches(PROVIDER_ID)) {
        throw ConfigErrors.badValue(c, base, "provider id must match " + PROVIDER_ID + " (it becomes a label value)");
      }
      Config p = c.getConfig(base);
      String kindName = p.hasPath("kind") ? p.getString("kind") : "";
      ProviderConfig.Kind kind;
      switch (kindName) {
        case "metered" -> kind = ProviderConfig.Kind.METERED;
        case "fixed" -> kind = ProviderConfig.Kind.FIXED;
        default -> throw ConfigErrors.badValue(c, base + ".kind", "unknown provider kind '" + kindName + "' (expected metered or fixed)");
      }
      double fee = kind == ProviderConfig.Kind.FIXED ? nonNegative(c, base + ".monthly-fee-eur") : 0;
      OptionalDouble budget = OptionalDouble.empty();
      if (p.hasPath("budget-eur")) {
        ConfigValue value = p.getValue("budget-eur");
        if (value.valueType() == ConfigValueType.STRING && p.getString("budget-eur").equals("remainder")) {
          if (remainderProvider != null) {
            throw ConfigErrors.badValue(c, base + ".budget-eur", "only one provider can take the remainder, " + remainderProvider + " already does");
          }
          remainderProvider = id;
        } else {
          budget = OptionalDouble.of(nonNegative(c, base + ".budget-eur"));
        }
      } else if (kind == ProviderConfig.Kind.METERED) {
        throw ConfigErrors.badValue(c, base + ".budget-eur", "a metered provider needs a budget (a number or \"remainder\")");
      }
      allocated += budget.orElse(fee);
      List<String> costQueries = List.of();
      if (kind == ProviderConfig.Kind.METERED) {
        costQueries = p.hasPath("cost-queries") ? p.getStringList("cost-queries") : List.of();
        if (costQueries.isEmpty()) {
          throw ConfigErrors.badValue(c, base + ".cost-queries", "a metered provider needs at least one cost query");
        }
        for (String q : costQueries) {
          if (!queries.containsKey(q)) {
            throw ConfigErrors.badValue(c, base + ".cost-queries", "names cost query '" + q + "', which is not defined under opswatch.cost-queries");
          }
        }
      }
      String displayName = p.hasPath("display-name") ? p.getString("display-name") : id;
      providers.add(
          new ProviderConfig(id, displayName, kind, fee, budget, thresholds(c, base, defaults), costQueries));
    }
    if (remainderProvider != null) {
      double remainder = totalBudget - allocated;
      if (remainder <= 0) {
        throw ConfigErrors.badValue(
            c, "budget.total-eur", String.format(java.util.Locale.ROOT,
                "leaves %.2f EUR for %s after the other providers' budgets and fees (%.2f EUR); raise it or give %s a budget-eur",
                remainder, remainderProvider, allocated, remainderProvider));
      }
      for (int i = 0; i < providers.size(); i++) {
        ProviderConfig p = providers.get(i);
        if (p.id().equals(remainderProvider)) {
          providers.set(i, new ProviderConfig(p.id(), p.displayName(), p.kind(), p.monthlyFeeEur(), OptionalDouble.of(remainder), p.thresholds(), p.costQueries()));
        }
      }
    }
    if (providers.isEmpty()) {
      throw ConfigErrors.badValue(c, "providers", "at least one provider is needed");
    }
    return List.copyOf(providers);
  }

  /** A whole number in [min, max]; Typesafe's getInt would silently truncate 1.5 to 1. */
  public static int integer(Config c, String path, int min, int max, String rangeMessage) {
    double value = c.getDouble(path);
    if (value != Math.rint(value) || value < min || value > max) {
      throw ConfigErrors.badValue(c, path, rangeMessage + ", got " + c.getValue(path).render());
    }
    return (int) value;
  }

  /** Thresholds at {@code base}.warning-ratio / critical-ratio, each defaulting to {@code defaults}. */
  public static Thresholds thresholds(Config c, String base, Thresholds defaults) {
    double warning = ratio(c, base + ".warning-ratio", defaults == null ? null : defaults.warning());
    double critical = ratio(c, base + ".critical-ratio", defaults == null ? null : defaults.critical());
    if (warning > critical) {
      String path = c.hasPath(base + ".warning-ratio") ? base + ".warning-ratio" : base + ".critical-ratio";
      throw ConfigErrors.badValue(c, path, "warning ratio " + warning + " is above the critical ratio " + critical);
    }
    return new Thresholds(warning, critical);
  }

  private static double ratio(Config c, String path, Double fallback) {
    if (!c.hasPath(path)) {
      if (fallback == null) {
        throw new ConfigException.Missing(path);
      }
      return fallback;
    }
    double value = c.getDouble(path);
    if (!(value > 0 && value <= 1)) {
      throw ConfigErrors.badValue(c, path, "must be a ratio above 0 and at most 1, got " + value);
    }
    return value;
  }

  public static double nonNegative(Config c, String path) {
    double value = c.getDouble(path);
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw ConfigErrors.badValue(c, path, "must be a finite number >= 0, got " + value);
    }
    return value;
  }

  private static double positive(Config c, String path) {
    double value = c.getDouble(path);
    if (!(value > 0) || Double.isInfinite(value)) {
      throw ConfigErrors.badValue(c, path, "must be a finite number > 0, got " + value);
    }
    return value;
  }

  public static Duration positive(Config c, String path, Duration minimum) {
    Duration value = c.getDuration(path);
    if (value.compareTo(minimum) < 0) {
      throw ConfigErrors.badValue(c, path, "must be at least " + minimum.toString().substring(2).toLowerCase(java.util.Locale.ROOT) + ", got " + value.toString().substring(2).toLowerCase(java.util.Locale.ROOT));
    }
    return value;
  }

  /** Typos in top-level sections are errors, not silently ignored settings. */
  private static void checkKnownKeys(Config root) {
    Config reference = ConfigFactory.parseResources("reference.conf").getConfig(ROOT);
    Config c = root.getConfig(ROOT);
    for (String key : c.root().keySet()) {
      if (!reference.hasPathOrNull(key)) {
        throw ConfigErrors.badValue(c, key, "is not a known setting (see reference.conf)");
      }
    }
  }
}
