package dev.opswatch.exporter.incident;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigValues;
import dev.opswatch.exporter.config.KnownKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** The {@code opswatch.incidents} section. */
public record IncidentConfig(
    Duration lookback,
    Duration unresolvedWindow,
    Set<String> knownTypes,
    List<TelemetryCategory> telemetryCategories,
    Duration recentWindow,
    int recentLimit) {

  static final String ESCALATION = "escalation";
  static final String OTHER = "other";
  private static final String NAME = "[a-z][a-z0-9_]*";
  private static final String WORD = "[a-z0-9_-]+";
  private static final Set<String> CATEGORY_KEYS = Set.of("severity", "action-contains");

  /** Parses and validates {@code incidents} of the {@code opswatch} object {@code c}. */
  public static IncidentConfig parse(Config c) {
    KnownKeys.check(c, "incidents", Set.of("lookback", "unresolved-window", "known-types", "telemetry-categories", "recent"));
    KnownKeys.check(c, "incidents.recent", Set.of("window", "limit"));
    Duration lookback = within(c, "incidents.lookback", Duration.ofMinutes(1), Duration.ofDays(90));
    Duration unresolved = within(c, "incidents.unresolved-window", Duration.ofHours(1), Duration.ofDays(366));
    Duration recentWindow = within(c, "incidents.recent.window", Duration.ofMinutes(1), Duration.ofDays(7));
    int limit = ConfigValues.integer(c, "incidents.recent.limit", 1, 100);
    Set<String> types = new LinkedHashSet<>();
    for (String type : ConfigValues.stringList(c, "incidents.known-types")) {
      if (!type.matches(NAME) || type.equals(ESCALATION) || type.equals(OTHER)) {
        throw ConfigErrors.badValue(c, "incidents.known-types",
            "'" + type + "' must match " + NAME + " and not be escalation or other (the labels of unlisted types)");
      }
      types.add(type);
    }
    return new IncidentConfig(lookback, unresolved, Set.copyOf(types), categories(c), recentWindow, limit);
  }

  /** The bounded {@code type} label of a SafetyEvent type. */
  public String typeLabel(String type) {
    if (type != null && knownTypes.contains(type)) {
      return type;
    }
    return type != null && type.startsWith(ESCALATION + "_") ? ESCALATION : OTHER;
  }

  /** Every value the {@code type} label can take, for zero-filled series. */
  public List<String> typeLabels() {
    List<String> labels = new ArrayList<>(new TreeSet<>(knownTypes));
    labels.add(ESCALATION);
    labels.add(OTHER);
    return labels;
  }

  private static List<TelemetryCategory> categories(Config c) {
    String path = "incidents.telemetry-categories";
    ConfigObject object = c.getObject(path);
    List<TelemetryCategory> categories = new ArrayList<>();
    for (String name : new TreeSet<>(object.keySet())) {
      String base = path + "." + name;
      if (object.get(name).valueType() == ConfigValueType.NULL) {
        continue;
      }
      if (!name.matches(NAME) || object.get(name).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be a category name matching " + NAME + " with an object value (or null)");
      }
      KnownKeys.check(c, base, CATEGORY_KEYS);
      String severityName = c.hasPath(base + ".severity") ? c.getString(base + ".severity") : "";
      Severity severity;
      try {
        severity = Severity.valueOf(severityName);
      } catch (IllegalArgumentException e) {
        throw ConfigErrors.badValue(c, base + ".severity", "must be S0, S1, S2 or S3, got '" + severityName + "'");
      }
      List<String> words = new ArrayList<>();
      if (c.hasPath(base + ".action-contains")) {
        for (String word : ConfigValues.stringList(c, base + ".action-contains")) {
          String lower = word.toLowerCase(Locale.ROOT);
          if (!lower.matches(WORD)) {
            throw ConfigErrors.badValue(c, base + ".action-contains", "'" + word + "' must be letters, digits, _ or - only");
          }
          words.add(lower);
        }
      }
      categories.add(new TelemetryCategory(name, severity, List.copyOf(words)));
    }
    return List.copyOf(categories);
  }

  private static Duration within(Config c, String path, Duration min, Duration max) {
    return ConfigValues.duration(c, path, min, max);
  }
}
