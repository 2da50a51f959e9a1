package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.cost.BillingPeriod;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Optional;

/**
 * The span a quota counts over: rolling (the last {@code length} before now) or the calendar month
 * of the billing time zone. Quotas with equal windows share one query, so this is a value type.
 */
public record QuotaWindow(Duration rollingLength, boolean calendarMonth) {
  /** Rolling windows up to this long are refreshed by the fast source. */
  public static final Duration FAST_LIMIT = Duration.ofMinutes(5);

  public static QuotaWindow rolling(Duration length) {
    return new QuotaWindow(length, false);
  }

  public static QuotaWindow month() {
    return new QuotaWindow(Duration.ZERO, true);
  }

  public boolean fast() {
    return !calendarMonth && rollingLength.compareTo(FAST_LIMIT) <= 0;
  }

  /** The window's span ending at {@code now}: [start, now), plus when a calendar window resets. */
  public Bounds at(Instant now, ZoneId billingZone) {
    if (calendarMonth) {
      BillingPeriod period = BillingPeriod.containing(now, billingZone);
      return new Bounds(period.start(), now, period.length(), Optional.of(period.end()));
    }
    return new Bounds(now.minus(rollingLength), now, rollingLength, Optional.empty());
  }

  /** One window's span. {@code length} is the whole window (a calendar month's full length). */
  public record Bounds(Instant start, Instant end, Duration length, Optional<Instant> reset) {}
}
