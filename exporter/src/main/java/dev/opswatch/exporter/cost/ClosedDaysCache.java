package dev.opswatch.exporter.cost;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

/**
 * Sums over a billing period's past days, [period start, today's midnight), re-read at most every
 * {@code refresh} and at once on a new day: the app writes rows as they happen, so past days change
 * only by correction. A refresh then scans today's rows alone, and its cost stays flat as the
 * month fills. Bad rows of past days are counted when they are read.
 *
 * @param <T> what the reader sums the past days into
 */
public final class ClosedDaysCache<T> {
  /** Reads the sums of [periodStart, today); called only when there are past days. */
  @FunctionalInterface
  public interface Reader<T> {
    T read(Instant periodStart, Instant today) throws SQLException;
  }

  private final Duration refresh;
  private final T empty;
  private volatile Entry<T> entry;

  /** @param empty the value for the period's first day, which has no past days */
  public ClosedDaysCache(Duration refresh, T empty) {
    this.refresh = refresh;
    this.empty = empty;
  }

  public T get(BillingPeriod period, Instant now, Reader<T> reader) throws SQLException {
    Instant today = period.startOfDay(now);
    Entry<T> cached = entry;
    if (cached != null && cached.freshAt(today, now, refresh)) {
      return cached.value();
    }
    T value = today.isAfter(period.start()) ? reader.read(period.start(), today) : empty;
    entry = new Entry<>(today, now, value);
    return value;
  }

  private record Entry<T>(Instant today, Instant readAt, T value) {
    /** Still today, and read less than {@code refresh} ago (a clock that went back re-reads). */
    boolean freshAt(Instant today, Instant now, Duration refresh) {
      return this.today.equals(today) && !now.isBefore(readAt) && now.isBefore(readAt.plus(refresh));
    }
  }
}
