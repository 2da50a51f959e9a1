package dev.opswatch.exporter.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** How close a spend or a use is to its limit. The order matters: later is worse. */
public enum Level {
  OK,
  WARNING,
  CRITICAL,
  EXCEEDED;

  /** The label value in metrics and JSON. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Level of {@code ratio} (use / limit): exceeded from 1.0, then critical, then warning. */
  public static Level of(double ratio, Thresholds thresholds) {
    if (ratio >= 1.0) {
      return EXCEEDED;
    }
    if (ratio >= thresholds.critical()) {
      return CRITICAL;
    }
    if (ratio >= thresholds.warning()) {
      return WARNING;
    }
    return OK;
  }

  /** Every label, in order: the states of a status StateSet. */
  public static final List<String> LABELS = Arrays.stream(values()).map(Level::label).toList();
}
