package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.incident.IncidentConfig;
import dev.opswatch.exporter.model.Thresholds;
import dev.opswatch.exporter.probe.ProbeConfig;
import dev.opswatch.exporter.quota.QuotaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Loads reference.conf, the user's file and the environment, in that order of precedence (last
 * wins), and parses the result once into an {@link ExporterConfig}. Every key at every depth must be
 * known to reference.conf (or, below a user-chosen id, to its section's schema); every problem is a
 * {@link ConfigException} whose message names the key, where it was set, and what is expected.
 */
public final class ConfigLoader {
  private static final String ROOT = "opswatch";
  /** Shorter admin tokens are refused: the token is the admin API's only protection. */
  private static final int MIN_ADMIN_TOKEN_LENGTH = 16;
  /** Objects whose keys are ids the user chooses; their section parsers check each entry's keys. */
  private static final Set<String> ID_MAPS =
      Set.of("providers", "cost-queries", "quotas.providers", "incidents.telemetry-categories", "probes.targets");

  private ConfigLoader() {}

  /** Layers the files and the environment; checks the environment's own variables, not the keys. */
  public static Config layered(Optional<Path> userFile, Map<String, String> env) {
    Config reference = reference();
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
    return parse(layered(userFile, env), env);
  }

  /** @param env the environment, for probe tokens named by {@code bearer-token-env} */
  public static ExporterConfig parse(Config root, Map<String, String> env) {
    Config c = root.getConfig(ROOT);
    KnownKeys.checkAgainst(c, c.root(), reference().getConfig(ROOT).root(), "", ID_MAPS);
    Thresholds defaults = ConfigValues.thresholds(c, "budget", null);
    ExporterConfig.Budget budget = new ExporterConfig.Budget(ConfigValues.nonNegative(c, "budget.total-eur"), defaults);
    Map<String, CostQueryConfig> queries = CostConfigParser.costQueries(c);
    return new ExporterConfig(
        http(c),
        adminToken(c),
        database(c),
        billing(c),
        budget,
        CostConfigParser.providers(c, defaults, queries, budget.totalEur()),
        queries,
        ConfigValues.positive(c, "max-row-cost-eur"),
        sources(c),
        QuotaConfig.parse(c),
        IncidentConfig.parse(c),
        ProbeConfig.parse(c, env));
  }

  private static Config reference() {
    return ConfigFactory.parseResources("reference.conf");
  }

  private static ExporterConfig.Http http(Config c) {
    // 0 picks a free port (tests use it).
    int port = ConfigValues.integer(c, "http.port", 0, 65535, "a port between 1 and 65535");
    int threads = ConfigValues.integer(c, "http.threads", 1, 256);
    Optional<ExporterConfig.BasicAuth> basicAuth = Optional.empty();
    String username = ConfigValues.string(c, "http.basic-auth.username");
    if (!username.isEmpty()) {
      String password =
          Secrets.readFile(c, "http.basic-auth.password-file")
              .orElseThrow(() -> ConfigErrors.badValue(c, "http.basic-auth.password-file", "is required when a username is set"));
      basicAuth = Optional.of(new ExporterConfig.BasicAuth(username, password));
    }
    Optional<ExporterConfig.Tls> tls = Optional.empty();
    String keystore = ConfigValues.string(c, "http.tls.keystore-file");
    if (!keystore.isEmpty()) {
      if (!Files.isReadable(Path.of(keystore))) {
        throw ConfigErrors.badValue(c, "http.tls.keystore-file", "cannot read file " + keystore);
      }
      String password =
          Secrets.readFile(c, "http.tls.keystore-password-file")
              .orElseThrow(() -> ConfigErrors.badValue(c, "http.tls.keystore-password-file", "is required with a keystore"));
      tls = Optional.of(new ExporterConfig.Tls(Path.of(keystore), password));
    }
    return new ExporterConfig.Http(bindAddress(c), port, threads, clientLimits(c), basicAuth, tls);
  }

  private static String bindAddress(Config c) {
    String bind = ConfigValues.string(c, "http.bind-address").strip();
    if (!bind.matches("[0-9A-Fa-f:.]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      throw ConfigErrors.badValue(c, "http.bind-address",
          "must be an IP address such as 0.0.0.0, ::, 127.0.0.1 or a host name, got " + ConfigValues.rendered(c, "http.bind-address"));
    }
    return bind;
  }

  private static ExporterConfig.ClientLimits clientLimits(Config c) {
    int max = ConfigValues.integer(c, "http.max-connections", 1, 10_000);
    int perAddress = ConfigValues.integer(c, "http.max-connections-per-address", 1, 10_000);
    if (perAddress > max) {
      throw ConfigErrors.badValue(c, "http.max-connections-per-address",
          "must be at most http.max-connections (" + max + "), got " + perAddress);
    }
    Duration headerTimeout = ConfigValues.duration(c, "http.request-header-timeout", Duration.ofMillis(100), Duration.ofSeconds(60));
    return new ExporterConfig.ClientLimits(max, perAddress, headerTimeout);
  }

  /**
   * The admin token, if set: long enough to be the admin API's only protection, and printable ASCII
   * (it travels in a header). The error names where it was set, never the token.
   */
  private static Optional<String> adminToken(Config c) {
    Optional<String> token = Secrets.read(c, "admin.token", "admin.token-file");
    if (token.isEmpty()) {
      return token;
    }
    String path = c.getString("admin.token").isEmpty() ? "admin.token-file" : "admin.token";
    if (token.get().length() < MIN_ADMIN_TOKEN_LENGTH) {
      throw ConfigErrors.badValue(c, path, "the admin token must be at least " + MIN_ADMIN_TOKEN_LENGTH
          + " characters, got " + token.get().length() + " (e.g. openssl rand -hex 16)");
    }
    if (!token.get().chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
      throw ConfigErrors.badValue(c, path, "the admin token must be printable ASCII without spaces (it travels in a header)");
    }
    return token;
  }

  private static ExporterConfig.Database database(Config c) {
    DatabaseUrl url;
    try {
      url = DatabaseUrl.parse(ConfigValues.string(c, "database.url"));
    } catch (IllegalArgumentException e) {
      throw ConfigErrors.badValue(c, "database.url", e.getMessage());
    }
    String password = Secrets.read(c, "database.password", "database.password-file").orElse("");
    url = url.withCredentials(ConfigValues.string(c, "database.user"), password);
    return new ExporterConfig.Database(
        url,
        ConfigValues.integer(c, "database.pool-size", 1, 2, "1 or 2 (the exporter must never crowd the app's database)"),
        ConfigValues.duration(c, "database.connect-timeout", Duration.ofMillis(250)),
        ConfigValues.duration(c, "database.acquire-timeout", Duration.ofMillis(250)),
        ConfigValues.duration(c, "database.statement-timeout", Duration.ofMillis(1)),
        ConfigValues.duration(c, "database.socket-timeout", Duration.ofSeconds(1)),
        ConfigValues.string(c, "database.application-name"));
  }

  private static ExporterConfig.Billing billing(Config c) {
    ZoneId zone;
    try {
      zone = ZoneId.of(ConfigValues.string(c, "billing.time-zone"));
    } catch (DateTimeException e) {
      throw ConfigErrors.badValue(c, "billing.time-zone",
          "must be a time zone id such as UTC or Europe/Rome, got " + ConfigValues.rendered(c, "billing.time-zone"));
    }
    return new ExporterConfig.Billing(zone, ConfigValues.duration(c, "billing.forecast-min-elapsed", Duration.ofMinutes(1)));
  }

  private static ExporterConfig.Sources sources(Config c) {
    double jitter = ConfigValues.within(c, "sources.jitter", 0, 0.5);
    Duration staleness = ConfigValues.duration(c, "sources.staleness-limit", Duration.ofSeconds(1));
    Map<String, Duration> intervals = new HashMap<>();
    Map<String, Duration> closedDays = new HashMap<>();
    Map<String, Duration> graces = new HashMap<>();
    Map<String, Duration> previousPeriods = new HashMap<>();
    for (Map.Entry<String, ConfigValue> e : c.getObject("sources").entrySet()) {
      if (e.getValue().valueType() == ConfigValueType.OBJECT) {
        String base = "sources." + e.getKey();
        if (c.hasPath(base + ".refresh-interval")) {
          intervals.put(e.getKey(), ConfigValues.duration(c, base + ".refresh-interval", Duration.ofSeconds(1)));
        }
        if (c.hasPath(base + ".closed-days-refresh")) {
          closedDays.put(e.getKey(), ConfigValues.duration(c, base + ".closed-days-refresh", Duration.ZERO));
        }
        if (c.hasPath(base + ".late-row-grace")) {
          graces.put(e.getKey(), ConfigValues.duration(c, base + ".late-row-grace", Duration.ZERO, Duration.ofHours(24)));
        }
        if (c.hasPath(base + ".previous-period-refresh")) {
          previousPeriods.put(e.getKey(), ConfigValues.duration(c, base + ".previous-period-refresh", Duration.ZERO));
        }
      }
    }
    return new ExporterConfig.Sources(jitter, staleness, intervals, closedDays, graces, previousPeriods);
  }
}
