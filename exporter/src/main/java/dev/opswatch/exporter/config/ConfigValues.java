package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;
import dev.opswatch.exporter.model.Thresholds;
import java.time.Duration;
import java.util.List;

/**
 * The one validated path for every number, duration and list the exporter reads: a value of the
 * wrong form or out of range is a {@link ConfigException.BadValue} that names where it was set
 * (file:line or environment variable), the key, the value and the expected form.
 */
public final class ConfigValues {
  private ConfigValues() {}

  /** A whole number in [min, max]; Typesafe's getInt would silently truncate 1.5 to 1. */
  public static int integer(Config c, String path, int min, int max) {
    return integer(c, path, min, max, "a whole number between " + min + " and " + max);
  }

  /** As {@link #integer(Config, String, int, int)}, with the expected form said in the operator's words. */
  public static int integer(Config c, String path, int min, int max, String expected) {
    double value = number(c, path, expected);
    if (value != Math.rint(value) || value < min || value > max) {
      throw ConfigErrors.badValue(c, path, "must be " + expected + ", got " + rendered(c, path));
    }
    return (int) value;
  }

  /** A finite number >= 0. */
  public static double nonNegative(Config c, String path) {
    double value = number(c, path, "a number >= 0");
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw ConfigErrors.badValue(c, path, "must be a finite number >= 0, got " + rendered(c, path));
    }
    return value;
  }

  /** A finite number > 0. */
  public static double positive(Config c, String path) {
    double value = number(c, path, "a number > 0");
    if (!(value > 0) || Double.isInfinite(value)) {
      throw ConfigErrors.badValue(c, path, "must be a finite number > 0, got " + rendered(c, path));
    }
    return value;
  }

  /** A number in [min, max]. */
  public static double within(Config c, String path, double min, double max) {
    double value = number(c, path, "a number from " + min + " to " + max);
    if (!(value >= min && value <= max)) {
      throw ConfigErrors.badValue(c, path, "must be between " + min + " and " + max + ", got " + rendered(c, path));
    }
    return value;
  }

  /** A duration of at least {@code min}. */
  public static Duration duration(Config c, String path, Duration min) {
    return duration(c, path, min, null);
  }

  /** A duration in [min, max] ({@code max} null: no upper bound). */
  public static Duration duration(Config c, String path, Duration min, Duration max) {
    Duration value;
    try {
      value = c.getDuration(path);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw ConfigErrors.badValue(c, path, "must be a duration such as 15s, 1m or 24h, got " + rendered(c, path));
    }
    if (value.compareTo(min) < 0) {
      throw ConfigErrors.badValue(c, path, "must be at least " + text(min, 1) + ", got " + rendered(c, path));
    }
    if (max != null && value.compareTo(max) > 0) {
      throw ConfigErrors.badValue(c, path, "must be at most " + text(max, 2) + ", got " + rendered(c, path));
    }
    return value;
  }

  /** A string (numbers and booleans are taken as written). */
  public static String string(Config c, String path) {
    try {
      return c.getString(path);
    } catch (ConfigException.WrongType e) {
      throw ConfigErrors.badValue(c, path, "must be a string, got " + rendered(c, path));
    }
  }

  /** A string, or {@code fallback} when the key is absent or blank. */
  public static String string(Config c, String path, String fallback) {
    String value = c.hasPath(path) ? string(c, path).strip() : "";
    return value.isEmpty() ? fallback : value;
  }

  /** A list of strings ({@code [a, b]}). */
  public static List<String> stringList(Config c, String path) {
    try {
      return c.getStringList(path);
    } catch (ConfigException.WrongType e) {
      throw ConfigErrors.badValue(c, path, "must be a list such as [a, b], got " + rendered(c, path));
    }
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
    double value = number(c, path, "a ratio above 0 and at most 1");
    if (!(value > 0 && value <= 1)) {
      throw ConfigErrors.badValue(c, path, "must be a ratio above 0 and at most 1, got " + rendered(c, path));
    }
    return value;
  }

  private static double number(Config c, String path, String expected) {
    try {
      return c.getDouble(path);
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw ConfigErrors.badValue(c, path, "must be " + expected + ", got " + rendered(c, path));
    }
  }

  /** The value as written, for messages: {@code 'abc'}, {@code 1.5}, {@code 24h}. */
  static String rendered(Config c, String path) {
    return c.hasPath(path) ? c.getValue(path).render(ConfigRenderOptions.concise()) : "nothing";
  }

  /**
   * A duration as the config writes it, in the largest unit that leaves at least {@code least} of it:
   * a minimum of 1m, a maximum of 24h or 60s (rather than 1d or 1m, which read as smaller).
   */
  private static String text(Duration d, int least) {
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    long s = d.toSeconds();
    if (s >= least * 86400L && s % 86400 == 0) {
      return s / 86400 + "d";
    }
    if (s >= least * 3600L && s % 3600 == 0) {
      return s / 3600 + "h";
    }
    return s >= least * 60L && s % 60 == 0 ? s / 60 + "m" : s + "s";
  }
}
