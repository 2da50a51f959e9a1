package dev.opswatch.exporter.closed;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.BinaryOperator;

/**
 * A rolling window longer than an hour (a 24h quota, the incidents' lookback) read as whole UTC
 * hours kept from refresh to refresh, plus its two partial hours: [start, the first whole hour) and
 * [the first hour not kept yet, now). An hour is kept once it ended {@code grace} ago (see
 * {@link ClosedHours}); hours not kept yet are read together with one query grouped by hour. Every
 * {@code refresh}, and when the clock went back, every hour is read again. Hours that slid out of
 * the window are dropped. A window too short to hold a kept hour, or {@code refresh} 0, is read whole.
 *
 * <p>The sum must be exact under {@code plus}: counts and sums of rows in adjacent spans.
 *
 * @param <T> what a span's rows sum into
 */
public final class RollingHours<T> {
  /** Reads a span whole, or per UTC hour in one query (hours without rows may be absent). */
  public interface Reader<T> {
    T read(Instant from, Instant to) throws SQLException;

    Map<Instant, T> readByHour(Instant from, Instant to) throws SQLException;
  }

  private final Duration refresh;
  private final Duration grace;
  private final T empty;
  private final BinaryOperator<T> plus;
  private final NavigableMap<Instant, T> hours = new TreeMap<>();
  private Instant fullReadAt;
  private Instant lastCall;

  public RollingHours(Duration refresh, Duration grace, T empty, BinaryOperator<T> plus) {
    this.refresh = refresh;
    this.grace = grace;
    this.empty = empty;
    this.plus = plus;
  }

  /** The value of [start, now). */
  public synchronized T read(Instant start, Instant now, Reader<T> reader) throws SQLException {
    Instant firstHour = ceilHour(start);
    Instant open = now.minus(grace).truncatedTo(ChronoUnit.HOURS);
    if (refresh.isZero() || !open.isAfter(firstHour)) {
      return reader.read(start, now);
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
      Map<Instant, T> read = reader.readByHour(missingFrom, missingTo);
      for (Instant h = missingFrom; h.isBefore(missingTo); h = h.plus(ClosedHours.HOUR)) {
        hours.put(h, read.getOrDefault(h, empty));
      }
    }
    T sum = start.isBefore(firstHour) ? reader.read(start, firstHour) : empty;
    for (T hour : hours.values()) {
      sum = plus.apply(sum, hour);
    }
    return plus.apply(sum, reader.read(open, now));
  }

  private static Instant ceilHour(Instant t) {
    Instant floor = t.truncatedTo(ChronoUnit.HOURS);
    return floor.equals(t) ? t : floor.plus(ClosedHours.HOUR);
  }
}
