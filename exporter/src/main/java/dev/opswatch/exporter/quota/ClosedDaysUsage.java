package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.cost.BillingPeriod;
import dev.opswatch.exporter.closed.ClosedDaysCache;
import dev.opswatch.exporter.closed.ClosedHours;
import dev.opswatch.exporter.closed.ClosedHoursCache;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * A calendar-month window's usage read as the costs source reads its month: the month's past days
 * from a {@link ClosedDaysCache}, today's closed hours from a {@link ClosedHoursCache}, plus the rows
 * from the first hour not kept yet to now at every refresh.
 */
final class ClosedDaysUsage {
  private final WindowUsageQuery query;
  private final ZoneId zone;
  private final Duration grace;
  private final ClosedDaysCache<WindowUsage> pastDays;
  private final ClosedHoursCache<WindowUsage> todayHours;

  ClosedDaysUsage(WindowUsageQuery query, ZoneId zone, Duration refresh, Duration grace) {
    this.query = query;
    this.zone = zone;
    this.grace = grace;
    this.pastDays = new ClosedDaysCache<>(refresh, grace, WindowUsage.NONE);
    this.todayHours = new ClosedHoursCache<>(refresh, WindowUsage.NONE, WindowUsage::plus);
  }

  /** The usage in {@code month}, [period start, now). */
  WindowUsage read(Connection connection, QuotaWindow.Bounds month, RejectedCounting counting) throws SQLException {
    Instant now = month.end();
    BillingPeriod period = BillingPeriod.containing(month.start(), zone);
    Instant today = period.startOfDay(now);
    Instant open = ClosedHours.end(today, now, grace);
    WindowUsage past = pastDays.get(period.start(), today, now, (from, to) -> query.run(connection, from, to, counting));
    WindowUsage hours = todayHours.get(today, open, now, (from, to) -> query.run(connection, from, to, counting));
    return past.plus(hours).plus(query.run(connection, open, now, counting));
  }
}
