package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.cost.BillingPeriod;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * A calendar-month window's usage as the costs source reads its month: the sums of the month's
 * past days, re-read at most every {@code refresh} and at each new day (the app writes rows as they
 * happen, so past days change only by correction), plus today's rows, read at every refresh. So a
 * refresh's cost stays flat as the month fills. Bad rows are counted when their day is read.
 */
final class ClosedDaysUsage {
  private final WindowUsageQuery query;
  private final ZoneId zone;
  private final Duration refresh;
  private volatile PastDays pastDays;

  ClosedDaysUsage(WindowUsageQuery query, ZoneId zone, Duration refresh) {
    this.query = query;
    this.zone = zone;
    this.refresh = refresh;
  }

  /** The usage in {@code month}, [period start, now). */
  WindowUsage read(Connection connection, QuotaWindow.Bounds month, RejectedCounting counting) throws SQLException {
    Instant now = month.end();
    Instant today = BillingPeriod.containing(month.start(), zone).startOfDay(now);
    return pastDays(connection, month.start(), today, now, counting).plus(query.run(connection, today, now, counting));
  }

  private WindowUsage pastDays(Connection connection, Instant periodStart, Instant today, Instant now, RejectedCounting counting)
      throws SQLException {
    PastDays cached = pastDays;
    if (cached != null && cached.freshAt(today, now, refresh)) {
      return cached.usage();
    }
    WindowUsage usage = today.isAfter(periodStart) ? query.run(connection, periodStart, today, counting) : WindowUsage.NONE;
    pastDays = new PastDays(today, now, usage);
    return usage;
  }


  private record PastDays(Instant today, Instant readAt, WindowUsage usage) {
    /** Still today, and read less than {@code refresh} ago (a clock that went back re-reads). */
    boolean freshAt(Instant today, Instant now, Duration refresh) {
      return this.today.equals(today) && !now.isBefore(readAt) && now.isBefore(readAt.plus(refresh));
    }
  }
}
