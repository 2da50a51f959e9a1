package dev.opswatch.exporter.closed;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BinaryOperator;

/**
 * Sums over a span that only grows at its end, such as today's closed hours [midnight, the last
 * closed hour): read whole once, then each newly closed hour alone, added to the sum. The whole span
 * is read again every {@code refresh} (so a row written later than {@link ClosedHours}' grace still
 * counts within that interval), when its start changes (a new day or month), and when the clock went
 * back. A refresh then reads only the open part after the span, and its cost no longer grows with the
 * day.
 *
 * <p>The sum must be exact under {@link #plus}: counts and sums of rows in adjacent spans.
 *
 * @param <T> what the reader sums a span into
 */
public final class ClosedHoursCache<T> {
  private final Duration refresh;
  private final T empty;
  private final BinaryOperator<T> plus;
  private volatile Entry<T> entry;

  /**
   * @param refresh how often the whole span is read again (0: at every call)
   * @param empty the value of an empty span (the first hour of a day has no closed hours)
   * @param plus the sum of two adjacent spans' values
   */
  public ClosedHoursCache(Duration refresh, T empty, BinaryOperator<T> plus) {
    this.refresh = refresh;
    this.empty = empty;
    this.plus = plus;
  }

  /** The value of [from, to) as of {@code now}. */
  public T get(Instant from, Instant to, Instant now, ClosedDaysCache.Reader<T> reader) throws SQLException {
    Entry<T> cached = entry;
    if (cached != null && cached.extendsTo(from, to, now, refresh)) {
      if (to.equals(cached.to())) {
        entry = new Entry<>(from, to, cached.fullReadAt(), now, cached.value());
        return cached.value();
      }
      T value = plus.apply(cached.value(), reader.read(cached.to(), to));
      entry = new Entry<>(from, to, cached.fullReadAt(), now, value);
      return value;
    }
    T value = to.isAfter(from) ? reader.read(from, to) : empty;
    entry = new Entry<>(from, to, now, now, value);
    return value;
  }

  private record Entry<T>(Instant from, Instant to, Instant fullReadAt, Instant lastCall, T value) {
    /**
     * The same start, a span no shorter, a clock that did not go back since the last call, and a
     * whole read less than {@code refresh} ago.
     */
    boolean extendsTo(Instant from, Instant to, Instant now, Duration refresh) {
      return this.from.equals(from) && !to.isBefore(this.to) && !now.isBefore(lastCall)
          && now.isBefore(fullReadAt.plus(refresh));
    }
  }
}
