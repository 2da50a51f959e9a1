package dev.opswatch.exporter.closed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.opswatch.exporter.cost.BillingPeriod;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which spans the closed-hours cache reads, and where the closed hours end, at the calendar's edges. */
class ClosedHoursCacheTest {
  private static final Instant MIDNIGHT = Instant.parse("2026-11-15T23:00:00Z"); // 16 November, 00:00 in Rome
  private static final Duration GRACE = Duration.ofMinutes(5);

  /** Records every span read and answers its length in minutes, so that sums show what was covered. */
  private final List<String> reads = new ArrayList<>();

  private long read(Instant from, Instant to) {
    reads.add(from + ".." + to);
    return Duration.between(from, to).toMinutes();
  }

  private long get(ClosedHoursCache<Long> cache, Instant now) throws Exception {
    return cache.get(MIDNIGHT, ClosedHours.end(MIDNIGHT, now, GRACE), now, this::read);
  }

  @Test
  void closedHoursEndOnAWholeHourAtLeastTheGraceBeforeNow() {
    assertEquals(MIDNIGHT, ClosedHours.end(MIDNIGHT, MIDNIGHT, GRACE), "the first minutes of a day have none");
    assertEquals(MIDNIGHT, ClosedHours.end(MIDNIGHT, MIDNIGHT.plusSeconds(3600 + 299), GRACE), "the first hour ended 4:59 ago");
    assertEquals(MIDNIGHT.plusSeconds(3600), ClosedHours.end(MIDNIGHT, MIDNIGHT.plusSeconds(3600 + 300), GRACE));
    assertEquals(MIDNIGHT.plusSeconds(5 * 3600), ClosedHours.end(MIDNIGHT, MIDNIGHT.plusSeconds(6 * 3600 - 1), Duration.ZERO));
    assertEquals(MIDNIGHT, ClosedHours.end(MIDNIGHT, MIDNIGHT.minusSeconds(60), GRACE), "a clock before the anchor");
  }

  @Test
  void aDayWithADaylightSavingChangeHasItsOwnNumberOfHours() {
    ZoneId rome = ZoneId.of("Europe/Rome");
    // 25 October 2026: 25 hours in Rome (CEST to CET); 29 March 2026: 23 hours.
    Instant fallBack = BillingPeriod.containing(Instant.parse("2026-10-25T12:00:00Z"), rome).startOfDay(Instant.parse("2026-10-25T12:00:00Z"));
    Instant lastMinute = Instant.parse("2026-10-25T22:59:00Z");
    assertEquals(Instant.parse("2026-10-24T22:00:00Z"), fallBack);
    assertEquals(Instant.parse("2026-10-25T22:00:00Z"), ClosedHours.end(fallBack, lastMinute, Duration.ZERO), "24 of its 25 hours closed");
    Instant springForward = BillingPeriod.containing(Instant.parse("2026-03-29T12:00:00Z"), rome).startOfDay(Instant.parse("2026-03-29T12:00:00Z"));
    assertEquals(Instant.parse("2026-03-28T23:00:00Z"), springForward);
    assertEquals(Instant.parse("2026-03-29T21:00:00Z"), ClosedHours.end(springForward, Instant.parse("2026-03-29T21:59:00Z"), Duration.ZERO),
        "22 of its 23 hours closed");
  }

  @Test
  void readsTheSpanOnceThenOnlyEachNewlyClosedHour() throws Exception {
    ClosedHoursCache<Long> cache = new ClosedHoursCache<>(Duration.ofHours(1), 0L, Long::sum);
    Instant t = MIDNIGHT.plusSeconds(3 * 3600 + 600); // 03:10
    assertEquals(180, get(cache, t));
    assertEquals(180, get(cache, t.plusSeconds(60)));
    assertEquals(180, get(cache, t.plusSeconds(3000)), "04:00 is not closed until 04:05");
    assertEquals(240, get(cache, t.plusSeconds(3300)));
    assertEquals(List.of(MIDNIGHT + ".." + MIDNIGHT.plusSeconds(3 * 3600),
        MIDNIGHT.plusSeconds(3 * 3600) + ".." + MIDNIGHT.plusSeconds(4 * 3600)), reads);
  }

  @Test
  void readsTheWholeSpanAgainEveryRefreshAfterTheClockWentBackAndOnANewDay() throws Exception {
    ClosedHoursCache<Long> cache = new ClosedHoursCache<>(Duration.ofHours(1), 0L, Long::sum);
    Instant t = MIDNIGHT.plusSeconds(5 * 3600 + 600); // 05:10
    get(cache, t);
    get(cache, t.plusSeconds(3599));
    assertEquals(2, reads.size(), "the 05:00 hour, added");
    assertEquals(360, get(cache, t.plusSeconds(3600)), "a whole re-read an hour after the last one");
    assertEquals(MIDNIGHT + ".." + MIDNIGHT.plusSeconds(6 * 3600), reads.get(2));
    assertEquals(360, get(cache, t.plusSeconds(3300)), "the clock went back 5 minutes: the same span, read whole");
    assertEquals(MIDNIGHT + ".." + MIDNIGHT.plusSeconds(6 * 3600), reads.get(3));
    assertEquals(120, get(cache, MIDNIGHT.plusSeconds(2 * 3600 + 600)), "back by hours: a shorter span, read whole");
    assertEquals(4 + 1, reads.size());
    Instant nextDay = MIDNIGHT.plus(Duration.ofDays(1));
    assertEquals(0, cache.get(nextDay, nextDay, nextDay.plusSeconds(60), this::read), "a new day starts empty, unread");
    assertEquals(5, reads.size());
    assertEquals(60, cache.get(nextDay, nextDay.plusSeconds(3600), nextDay.plusSeconds(3900), this::read));
    assertEquals(nextDay + ".." + nextDay.plusSeconds(3600), reads.get(5));
  }

  @Test
  void aZeroRefreshReadsTheWholeSpanEveryTime() throws Exception {
    ClosedHoursCache<Long> cache = new ClosedHoursCache<>(Duration.ZERO, 0L, Long::sum);
    Instant t = MIDNIGHT.plusSeconds(3 * 3600 + 600);
    get(cache, t);
    get(cache, t);
    assertEquals(List.of(MIDNIGHT + ".." + MIDNIGHT.plusSeconds(3 * 3600), MIDNIGHT + ".." + MIDNIGHT.plusSeconds(3 * 3600)), reads);
  }
}
