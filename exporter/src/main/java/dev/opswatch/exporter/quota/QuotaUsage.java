package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.model.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** One quota's use in its current window. {@code reset} is set for calendar windows only. */
public record QuotaUsage(QuotaDefinition quota, double usage, Level level, Duration windowLength, Optional<Instant> reset) {

  public static QuotaUsage of(QuotaDefinition quota, double usage, QuotaWindow.Bounds bounds) {
    return new QuotaUsage(quota, usage, Level.of(usage / quota.limit(), quota.thresholds()), bounds.length(), bounds.reset());
  }

  /** Usage / limit (limits are validated to be above 0). */
  public double ratio() {
    return usage / quota.limit();
  }
}
