package dev.opswatch.exporter.metrics;

import java.util.List;
import java.util.Locale;

/**
 * One metric family, declared once beside the code that fills it: name, type, help and label
 * names, as postgres_exporter declares its families beside their queries. {@link Samples} fills it;
 * docs/metrics.md is checked against these declarations ({@code MetricCatalogTest}).
 *
 * <p>{@code name} is given without client_java's implicit suffixes: a counter {@code x} is exposed as
 * {@code x_total}, an info {@code x} as {@code x_info} (see {@link #exposedName()}).
 */
public record MetricFamily(String name, Type type, String help, List<String> labelNames, List<String> states) {

  /** The four kinds of family the exporter serves. */
  public enum Type {
    GAUGE,
    COUNTER,
    STATESET,
    INFO;

    /** As docs/metrics.md writes it. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public MetricFamily {
    labelNames = List.copyOf(labelNames);
    states = List.copyOf(states);
  }

  public static MetricFamily gauge(String name, String help, String... labelNames) {
    return new MetricFamily(name, Type.GAUGE, help, List.of(labelNames), List.of());
  }

  public static MetricFamily counter(String name, String help, String... labelNames) {
    return new MetricFamily(name, Type.COUNTER, help, List.of(labelNames), List.of());
  }

  /** A StateSet: each data point has exactly one of {@code states} set (or none). */
  public static MetricFamily stateSet(String name, String help, List<String> states, String... labelNames) {
    return new MetricFamily(name, Type.STATESET, help, List.of(labelNames), states);
  }

  public static MetricFamily info(String name, String help, String... labelNames) {
    return new MetricFamily(name, Type.INFO, help, List.of(labelNames), List.of());
  }

  /** The name in the exposition, with the suffix client_java adds. */
  public String exposedName() {
    return switch (type) {
      case COUNTER -> name + "_total";
      case INFO -> name + "_info";
      default -> name;
    };
  }
}
