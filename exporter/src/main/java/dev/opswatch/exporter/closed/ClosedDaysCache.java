package dev.opswatch.exporter.closed;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

/**
 * Sums over whole past days, such as a billing period's [start, today's midnight) or the whole
 * previous period, re-read at most every {@code refresh} and at once when the span changes (a new
 * day, a new month): the app writes rows as they happen, so past days change only by correction. A
 * refresh then scans today's rows alone, and its cost stays flat as the month fills. Bad rows of
 * past days are counted when they are read.
 *
 * <p>A span read less than {@code grace} after its end (the first refresh after midnight) is read
 * once more when the grace has passed, as a closed hour is (see {@link ClosedHours}): a row for
 * 23:59 written at 00:03 counts by then, not only at the next {@code refresh}.
 *
 * @param <T> what the reader sums the span into
 */
public final class ClosedDaysCache<T> {
  /** Reads the sums of [from, to); called only for a non-empty span. */
  @FunctionalInterface
  public interface Reader<T> {
    T read(Instant from, Instant to) throws SQLException;
  }

  private final Duration refresh;
  private final Duration grace;
  private final T empty;
  private volatile Entry<T> entry;

  /** @param empty the value of an empty span (the first day of a period has no past days) */
  public ClosedDaysCache(Duration refresh, Duration grace, T empty) {
    this.refresh = refresh;
    this.grace = grace;
    this.empty = empty;
  }

  public T get(Instant from, Instant to, Instant now, Reader<T> reader) throws SQLException {
    Entry<T> cached = entry;
    if (cached != null && cached.freshAt(from, to, now, refresh, grace)) {
      return cached.value();
    }
    T value = to.isAfter(from) ? reader.read(from, to) : empty;
    entry = new Entry<>(from, to, now, value);
    return value;
  }

  private record Entry<T>(Instant from, Instant to, Instant readAt, T value) {
    /**
     * The same span, read less than {@code refresh} ago (a clock that went back re-reads), and not
     * read within {@code grace} after its end unless that grace still runs.
     */
    boolean freshAt(Instant from, Instant to, Instant now, Duration refresh, Duration grace) {
      Instant settled = to.plus(grace);
      return this.from.equals(from) && this.to.equals(to) && !now.isBefore(readAt) && now.isBefore(readAt.plus(refresh))
          && (!readAt.isBefore(settled) || now.isBefore(settled));
    }
  }
}
