package dev.opswatch.exporter.db;

import java.util.Map;
import java.util.TreeMap;

/** Rows skipped as invalid during one refresh, by reason (the {@code reason} label). */
public final class RejectedRows {
  public static final String NULL_VALUE = "null_value";
  public static final String NEGATIVE_VALUE = "negative_value";
  public static final String NOT_FINITE = "not_finite";
  public static final String ABSURD_VALUE = "absurd_value";
  public static final String NULL_LABEL = "null_label";
  public static final String UNKNOWN_SEVERITY = "unknown_severity";
  public static final String BAD_METADATA = "bad_metadata";

  private final Map<String, Long> counts = new TreeMap<>();

  public void add(String reason, long n) {
    if (n > 0) {
      counts.merge(reason, n, Long::sum);
    }
  }

  /** The reason a number is unusable as an amount, or null when it is fine. */
  public static String checkAmount(double value, boolean wasNull, double absurdAbove) {
    if (wasNull) {
      return NULL_VALUE;
    }
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return NOT_FINITE;
    }
    if (value < 0) {
      return NEGATIVE_VALUE;
    }
    return value > absurdAbove ? ABSURD_VALUE : null;
  }

  public Map<String, Long> asMap() {
    return Map.copyOf(counts);
  }
}
