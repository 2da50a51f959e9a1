package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.cost.BillingPeriod;
import dev.opswatch.exporter.cost.ClosedDaysCache;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

/**
 * A calendar-month window's usage read as the costs source reads its month: the month's past days
 * from a {@link ClosedDaysCache}, plus today's rows at every refresh.
 */
final class ClosedDaysUsage {
  private final WindowUsageQuery query;
  private final ZoneId zone;
  private final ClosedDaysCache<WindowUsage> pastDays;

  ClosedDaysUsage(WindowUsageQuery query, ZoneId zone, Duration refresh) {
    this.query = query;
    this.zone = zone;
    this.pastDays = new ClosedDaysCache<>(refresh, WindowUsage.NONE);
  }

  /** The usage in {@code month}, [period start, now). */
  WindowUsage read(Connection connection, QuotaWindow.Bounds month, RejectedCounting counting) throws SQLException {
    Instant now = month.end();
    BillingPeriod period = BillingPeriod.containing(month.start(), zone);
    WindowUsage past = pastDays.get(period.start(), period.startOfDay(now), now,
        (start, today) -> query.run(connection, start, today, counting));
    return past.plus(query.run(connection, period.startOfDay(now), now, counting));
  }
}
