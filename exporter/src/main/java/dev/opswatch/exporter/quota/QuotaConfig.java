package dev.opswatch.exporter.quota;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigValues;
import dev.opswatch.exporter.config.KnownKeys;
import dev.opswatch.exporter.model.Thresholds;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code opswatch.quotas} section: which TelemetryEvent rows are external API calls, the
 * providers and their quotas. Thresholds cascade: quota, then provider, then section.
 */
public record QuotaConfig(String category, Duration errorWindow, List<QuotaProvider> providers, List<QuotaDefinition> quotas) {
  private static final String ID = "[a-z][a-z0-9_]*";
  private static final Duration MIN_WINDOW = Duration.ofSeconds(1);
  private static final Duration MAX_WINDOW = Duration.ofDays(31);
  private static final Set<String> PROVIDER_KEYS = Set.of("display-name", "label", "warning-ratio", "critical-ratio", "quotas");
  private static final Set<String> QUOTA_KEYS =
      Set.of("display-name", "actions", "measure", "window", "limit", "warning-ratio", "critical-ratio");

  /** Parses and validates {@code quotas} of the {@code opswatch} object {@code c}. */
  public static QuotaConfig parse(Config c) {
    KnownKeys.check(c, "quotas", Set.of("category", "error-window", "warning-ratio", "critical-ratio", "providers"));
    String category = ConfigValues.string(c, "quotas.category").strip();
    if (category.isEmpty()) {
      throw ConfigErrors.badValue(c, "quotas.category", "must name the TelemetryEvent category of external API calls");
    }
    Duration errorWindow = ConfigValues.duration(c, "quotas.error-window", Duration.ofMinutes(1), Duration.ofDays(1));
    Thresholds defaults = ConfigValues.thresholds(c, "quotas", null);
    ConfigObject object = c.getObject("quotas.providers");
    List<QuotaProvider> providers = new ArrayList<>();
    List<QuotaDefinition> quotas = new ArrayList<>();
    Map<String, String> labelPaths = new HashMap<>();
    for (String id : new TreeSet<>(object.keySet())) {
      if (object.get(id).valueType() == ConfigValueType.NULL) {
        continue;
      }
      String base = "quotas.providers." + id;
      if (!id.matches(ID)) {
        throw ConfigErrors.badValue(c, base, "provider id must match " + ID + " (it becomes a label value)");
      }
      if (object.get(id).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be an object (or null to remove the provider)");
      }
      KnownKeys.check(c, base, PROVIDER_KEYS);
      QuotaProvider provider = new QuotaProvider(
          id, text(c, base + ".display-name", id), text(c, base + ".label", id));
      String labelPath = c.hasPath(base + ".label") ? base + ".label" : base;
      String previousPath = labelPaths.put(provider.label(), labelPath);
      if (previousPath != null) {
        // Name whichever of the two set the label explicitly: that is the line to fix.
        String culprit = labelPath.endsWith(".label") || !previousPath.endsWith(".label") ? labelPath : previousPath;
        throw ConfigErrors.badValue(c, culprit, "two providers count the same TelemetryEvent label '" + provider.label() + "'");
      }
      providers.add(provider);
      Thresholds providerThresholds = ConfigValues.thresholds(c, base, defaults);
      if (c.hasPath(base + ".quotas")) {
        quotas.addAll(quotasOf(c, base + ".quotas", provider, providerThresholds));
      }
    }
    return new QuotaConfig(category, errorWindow, List.copyOf(providers), List.copyOf(quotas));
  }

  private static List<QuotaDefinition> quotasOf(Config c, String path, QuotaProvider provider, Thresholds defaults) {
    ConfigObject object = c.getObject(path);
    List<QuotaDefinition> quotas = new ArrayList<>();
    for (String id : new TreeSet<>(object.keySet())) {
      if (object.get(id).valueType() == ConfigValueType.NULL) {
        continue;
      }
      String base = path + "." + id;
      if (!id.matches(ID)) {
        throw ConfigErrors.badValue(c, base, "quota id must match " + ID + " (it becomes a label value)");
      }
      if (object.get(id).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be an object (or null to remove the quota)");
      }
      KnownKeys.check(c, base, QUOTA_KEYS);
      List<String> actions = c.hasPath(base + ".actions") ? ConfigValues.stringList(c, base + ".actions") : List.of();
      if (actions.stream().anyMatch(String::isBlank)) {
        throw ConfigErrors.badValue(c, base + ".actions", "must not contain empty action names");
      }
      String period = c.hasPath(base + ".window") ? c.getString(base + ".window").strip() : "";
      quotas.add(new QuotaDefinition(
          provider, id, text(c, base + ".display-name", id), List.copyOf(actions), measure(c, base),
          window(c, base + ".window", period), period, limit(c, base), ConfigValues.thresholds(c, base, defaults)));
    }
    return quotas;
  }

  private static QuotaDefinition.Measure measure(Config c, String base) {
    String measure = c.hasPath(base + ".measure") ? c.getString(base + ".measure") : "";
    return switch (measure) {
      case "sum" -> QuotaDefinition.Measure.SUM;
      case "count" -> QuotaDefinition.Measure.COUNT;
      default -> throw ConfigErrors.badValue(c, base + ".measure",
          "must be sum (of the rows' values, e.g. tokens) or count (of calls), got '" + measure + "'");
    };
  }

  private static QuotaWindow window(Config c, String path, String text) {
    if (text.equals("month")) {
      return QuotaWindow.month();
    }
    Duration length;
    try {
      length = c.getDuration(path);
    } catch (ConfigException.Missing | ConfigException.BadValue | ConfigException.WrongType e) {
      throw ConfigErrors.badValue(c, path, "must be a rolling window such as 1m or 24h, or month (the calendar month), got '" + text + "'");
    }
    if (length.compareTo(MIN_WINDOW) < 0 || length.compareTo(MAX_WINDOW) > 0) {
      throw ConfigErrors.badValue(c, path, "a rolling window must be between 1s and 31d, got " + text);
    }
    return QuotaWindow.rolling(length);
  }

  private static double limit(Config c, String base) {
    if (!c.hasPath(base + ".limit")) {
      throw ConfigErrors.badValue(c, base, "a quota needs a limit");
    }
    return ConfigValues.positive(c, base + ".limit");
  }

  private static String text(Config c, String path, String fallback) {
    return ConfigValues.string(c, path, fallback);
  }
}
