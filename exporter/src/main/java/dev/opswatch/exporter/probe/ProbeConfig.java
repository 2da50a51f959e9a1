package dev.opswatch.exporter.probe;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigValues;
import dev.opswatch.exporter.config.KnownKeys;
import dev.opswatch.exporter.config.Secrets;
import dev.opswatch.exporter.config.UrlMask;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import okhttp3.HttpUrl;

/** The {@code opswatch.probes} section. No targets is valid: then nothing is probed. */
public record ProbeConfig(
    Duration connectTimeout, Duration readTimeout, Duration callTimeout, int maxConcurrent, List<ProbeTarget> targets,
    Redirects redirects) {

  /** Which redirects a probe follows: none, or those to the same origin (scheme, host and port). */
  public enum Redirects { NONE, SAME_ORIGIN }

  public ProbeConfig(Duration connectTimeout, Duration readTimeout, Duration callTimeout, int maxConcurrent, List<ProbeTarget> targets) {
    this(connectTimeout, readTimeout, callTimeout, maxConcurrent, targets, Redirects.SAME_ORIGIN);
  }

  private static final String NAME = "[a-z][a-z0-9_]*";
  private static final Duration MIN_TIMEOUT = Duration.ofMillis(100);
  private static final Set<String> TARGET_KEYS = Set.of("url", "bearer-token-env", "bearer-token-file", "checks");

  /** Parses and validates {@code probes} of the {@code opswatch} object {@code c}; tokens named by env come from {@code env}. */
  public static ProbeConfig parse(Config c, Map<String, String> env) {
    KnownKeys.check(c, "probes", Set.of("connect-timeout", "read-timeout", "call-timeout", "max-concurrent", "checks", "targets", "redirects"));
    Duration connect = ConfigValues.duration(c, "probes.connect-timeout", MIN_TIMEOUT);
    Duration read = ConfigValues.duration(c, "probes.read-timeout", MIN_TIMEOUT);
    Duration call = ConfigValues.duration(c, "probes.call-timeout", MIN_TIMEOUT, Duration.ofSeconds(60));
    int maxConcurrent = ConfigValues.integer(c, "probes.max-concurrent", 1, 32);
    String redirectsName = ConfigValues.string(c, "probes.redirects");
    Redirects redirects = switch (redirectsName) {
      case "same-origin" -> Redirects.SAME_ORIGIN;
      case "none" -> Redirects.NONE;
      default -> throw ConfigErrors.badValue(c, "probes.redirects", "must be same-origin or none, got '" + redirectsName + "'");
    };
    List<String> defaultChecks = checks(c, "probes.checks");
    ConfigObject object = c.getObject("probes.targets");
    List<ProbeTarget> targets = new ArrayList<>();
    for (String name : new TreeSet<>(object.keySet())) {
      String base = "probes.targets." + name;
      if (object.get(name).valueType() == ConfigValueType.NULL) {
        continue;
      }
      if (!name.matches(NAME) || object.get(name).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be a target name matching " + NAME + " with an object value (or null)");
      }
      KnownKeys.check(c, base, TARGET_KEYS);
      String url = c.hasPath(base + ".url") ? c.getString(base + ".url").strip() : "";
      if (url.isEmpty()) {
        continue;
      }
      HttpUrl parsed = HttpUrl.parse(url);
      if (parsed == null) {
        throw ConfigErrors.badValue(c, base + ".url", "must be an http:// or https:// URL, got '" + UrlMask.mask(url) + "'");
      }
      List<String> checks = c.hasPath(base + ".checks") ? checks(c, base + ".checks") : defaultChecks;
      targets.add(new ProbeTarget(name, parsed.toString(), token(c, base, env), checks));
    }
    return new ProbeConfig(connect, read, call, maxConcurrent, List.copyOf(targets), redirects);
  }

  private static Optional<String> token(Config c, String base, Map<String, String> env) {
    String variable = c.hasPath(base + ".bearer-token-env") ? c.getString(base + ".bearer-token-env").strip() : "";
    Optional<String> fromFile = Secrets.readFile(c, base + ".bearer-token-file");
    if (!variable.isEmpty() && fromFile.isPresent()) {
      throw ConfigErrors.badValue(c, base + ".bearer-token-env", "set either bearer-token-env or bearer-token-file, not both");
    }
    if (variable.isEmpty()) {
      return fromFile;
    }
    String value = env.getOrDefault(variable, "").strip();
    if (value.isEmpty()) {
      throw ConfigErrors.badValue(c, base + ".bearer-token-env", "names environment variable " + variable + ", which is not set or empty");
    }
    return Optional.of(value);
  }

  private static List<String> checks(Config c, String path) {
    List<String> checks = c.getStringList(path);
    for (String check : checks) {
      if (!check.matches(NAME)) {
        throw ConfigErrors.badValue(c, path, "check '" + check + "' must match " + NAME + " (it becomes a label value)");
      }
    }
    return List.copyOf(checks);
  }
}
