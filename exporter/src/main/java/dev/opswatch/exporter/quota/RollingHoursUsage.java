package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.closed.RollingHours;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** A quota's rolling window longer than an hour, read as kept whole hours (see {@link RollingHours}). */
final class RollingHoursUsage {
  private final WindowUsageQuery query;
  private final RollingHours<WindowUsage> hours;

  RollingHoursUsage(WindowUsageQuery query, Duration refresh, Duration grace) {
    this.query = query;
    this.hours = new RollingHours<>(refresh, grace, WindowUsage.NONE, WindowUsage::plus);
  }

  /** The usage in [window start, now). */
  WindowUsage read(Connection connection, QuotaWindow.Bounds window, RejectedCounting counting) throws SQLException {
    return hours.read(window.start(), window.end(), new RollingHours.Reader<>() {
      @Override
      public WindowUsage read(Instant from, Instant to) throws SQLException {
        return query.run(connection, from, to, counting);
      }

      @Override
      public Map<Instant, WindowUsage> readByHour(Instant from, Instant to) throws SQLException {
        return query.runByHour(connection, from, to, counting);
      }
    });
  }
}
