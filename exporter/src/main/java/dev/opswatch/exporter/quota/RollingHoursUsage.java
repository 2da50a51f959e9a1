package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.cost.ClosedHours;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A rolling window longer than an hour (24h) read as whole UTC hours kept from refresh to refresh,
 * plus its two partial hours: [start, the first whole hour) and [the first hour not kept yet, now).
 * An hour is kept once it ended {@code grace} ago (see {@link ClosedHours}); hours not kept yet are
 * read together with one query grouped by hour. Every {@code refresh}, and when the clock went back,
 * every hour is read again. Hours that slid out of the window are dropped.
 */
final class RollingHoursUsage {
  private final WindowUsageQuery query;
  private final Duration refresh;
  private final Duration grace;
  private final NavigableMap<Instant, WindowUsage> hours = new TreeMap<>();
  private Instant fullReadAt;
  private Instant lastCall;

  RollingHoursUsage(WindowUsageQuery query, Duration refresh, Duration grace) {
    this.query = query;
    this.refresh = refresh;
    this.grace = grace;
  }

  /** The usage in [window start, now). */
  synchronized WindowUsage read(Connection connection, QuotaWindow.Bounds window, RejectedCounting counting) throws SQLException {
    Instant start = window.start();
    Instant now = window.end();
    Instant firstHour = ceilHour(start);
    Instant open = now.minus(grace).truncatedTo(ChronoUnit.HOURS);
    if (refresh.isZero() || !open.isAfter(firstHour)) {
      return query.run(connection, start, now, counting);
    }
    if (fullReadAt == null || now.isBefore(lastCall) || !now.isBefore(fullReadAt.plus(refresh))) {
      hours.clear();
      fullReadAt = now;
    }
    lastCall = now;
    hours.headMap(firstHour, false).clear();
    hours.tailMap(open, true).clear();
    Instant missingFrom = null;
    Instant missingTo = null;
    for (Instant h = firstHour; h.isBefore(open); h = h.plus(ClosedHours.HOUR)) {
      if (!hours.containsKey(h)) {
        missingFrom = missingFrom == null ? h : missingFrom;
        missingTo = h.plus(ClosedHours.HOUR);
      }
    }
    if (missingFrom != null) {
      Map<Instant, WindowUsage> read = query.runByHour(connection, missingFrom, missingTo, counting);
      for (Instant h = missingFrom; h.isBefore(missingTo); h = h.plus(ClosedHours.HOUR)) {
        hours.put(h, read.getOrDefault(h, WindowUsage.NONE));
      }
    }
    WindowUsage sum = start.isBefore(firstHour) ? query.run(connection, start, firstHour, counting) : WindowUsage.NONE;
    for (WindowUsage hour : hours.values()) {
      sum = sum.plus(hour);
    }
    return sum.plus(query.run(connection, open, now, counting));
  }

  private static Instant ceilHour(Instant t) {
    Instant floor = t.truncatedTo(ChronoUnit.HOURS);
    return floor.equals(t) ? t : floor.plus(ClosedHours.HOUR);
  }
}
