package dev.opswatch.exporter.cost;

import java.time.Duration;
import java.time.Instant;

/**
 * Month-end forecast by linear extrapolation in time: spend / elapsed fraction of the period.
 * Early in the month the elapsed fraction is tiny and one expensive minute would forecast a
 * fortune, so the divisor never drops below {@code minElapsed}.
 */
public final class Forecaster {
  private final Duration minElapsed;

  public Forecaster(Duration minElapsed) {
    this.minElapsed = minElapsed;
  }

  public double forecast(double monthToDate, BillingPeriod period, Instant now) {
    Duration length = period.length();
    Duration elapsed = period.elapsed(now);
    Duration guarded = elapsed.compareTo(minElapsed) < 0 ? min(minElapsed, length) : elapsed;
    double fraction = (double) guarded.toMillis() / length.toMillis();
    return monthToDate / fraction;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }
}
