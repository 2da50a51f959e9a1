package dev.opswatch.exporter.closed;

import java.time.Duration;
import java.time.Instant;

/**
 * Where the closed hours end: the hours counted from an anchor (today's midnight in the billing
 * zone, or a UTC hour) that ended at least {@code grace} before now. An app writes a row a little
 * after the moment it records (a transaction still open at the top of the hour, a call logged when
 * it returns), so an hour is read again at every refresh until {@code grace} after its end, and only
 * then kept: a row written up to {@code grace} late counts at the next refresh, a later one at the
 * next whole re-read ({@code closed-days-refresh}).
 */
public final class ClosedHours {
  public static final Duration HOUR = Duration.ofHours(1);

  private ClosedHours() {}

  /** The end of the closed hours counted from {@code anchor}: never before it, on a whole hour from it. */
  public static Instant end(Instant anchor, Instant now, Duration grace) {
    Instant settled = now.minus(grace);
    if (!settled.isAfter(anchor)) {
      return anchor;
    }
    long hours = Duration.between(anchor, settled).toSeconds() / HOUR.toSeconds();
    return anchor.plus(HOUR.multipliedBy(hours));
  }
}
