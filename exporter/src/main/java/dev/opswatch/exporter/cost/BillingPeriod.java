package dev.opswatch.exporter.cost;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * A calendar month in a time zone, as instants. Lengths come from the instants, so a month
 * with a DST change is 743 or 745 hours long, as it really is.
 */
public record BillingPeriod(YearMonth month, ZoneId zone, Instant start, Instant end) {

  public static BillingPeriod containing(Instant now, ZoneId zone) {
    return of(YearMonth.from(ZonedDateTime.ofInstant(now, zone)), zone);
  }

  public static BillingPeriod of(YearMonth month, ZoneId zone) {
    Instant start = month.atDay(1).atStartOfDay(zone).toInstant();
    Instant end = month.plusMonths(1).atDay(1).atStartOfDay(zone).toInstant();
    return new BillingPeriod(month, zone, start, end);
  }

  public Duration length() {
    return Duration.between(start, end);
  }

  /** Time since the start, clamped to the period. */
  public Duration elapsed(Instant now) {
    if (now.isBefore(start)) {
      return Duration.ZERO;
    }
    return now.isAfter(end) ? length() : Duration.between(start, now);
  }

  /** Midnight of {@code now}'s day in the period's zone, never before the period's start. */
  public Instant startOfDay(Instant now) {
    Instant midnight = ZonedDateTime.ofInstant(now, zone).toLocalDate().atStartOfDay(zone).toInstant();
    return midnight.isBefore(start) ? start : midnight;
  }

  /** The billing period before this one. */
  public BillingPeriod previous() {
    return of(month.minusMonths(1), zone);
  }
}
