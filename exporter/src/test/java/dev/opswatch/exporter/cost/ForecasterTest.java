package dev.opswatch.exporter.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class ForecasterTest {
  private static final ZoneId UTC = ZoneOffset.UTC;
  private final Forecaster forecaster = new Forecaster(Duration.ofHours(24));

  @Test
  void extrapolatesByElapsedTimeNotByDayNumber() {
    // 2026-11 has 30 days; at noon on the 16th, 15.5 days of 30 have passed.
    BillingPeriod november = BillingPeriod.of(YearMonth.of(2026, 11), UTC);
    Instant now = Instant.parse("2026-11-16T12:00:00Z");
    assertEquals(31.0 / 15.5 * 30, forecaster.forecast(31.0, november, now), 1e-9);
  }

  @Test
  void firstHourOfTheMonthDividesByTheGuardNotByTheTinyFraction() {
    BillingPeriod november = BillingPeriod.of(YearMonth.of(2026, 11), UTC);
    Instant fiveMinutesIn = Instant.parse("2026-11-01T00:05:00Z");
    // 2 EUR in five minutes would be 17,280 EUR linearly; the 24 h guard gives 2 x 30 = 60.
    assertEquals(60.0, forecaster.forecast(2.0, november, fiveMinutesIn), 1e-9);
    // From the guard on, plain extrapolation.
    Instant twoDaysIn = Instant.parse("2026-11-03T00:00:00Z");
    assertEquals(30.0, forecaster.forecast(2.0, november, twoDaysIn), 1e-9);
  }

  @Test
  void februaryLengthsInLeapAndCommonYears() {
    BillingPeriod leap = BillingPeriod.of(YearMonth.of(2028, 2), UTC);
    BillingPeriod common = BillingPeriod.of(YearMonth.of(2027, 2), UTC);
    assertEquals(Duration.ofDays(29), leap.length());
    assertEquals(Duration.ofDays(28), common.length());
    // Half-way through each February, the forecast is twice the spend.
    assertEquals(20.0, forecaster.forecast(10.0, leap, Instant.parse("2028-02-15T12:00:00Z")), 1e-9);
    assertEquals(20.0, forecaster.forecast(10.0, common, Instant.parse("2027-02-15T00:00:00Z")), 1e-9);
  }

  @Test
  void monthWithDaylightSavingChangeIsMeasuredInRealHours() {
    ZoneId rome = ZoneId.of("Europe/Rome");
    BillingPeriod march = BillingPeriod.of(YearMonth.of(2027, 3), rome);
    BillingPeriod october = BillingPeriod.of(YearMonth.of(2027, 10), rome);
    assertEquals(Duration.ofHours(31 * 24 - 1), march.length());
    assertEquals(Duration.ofHours(31 * 24 + 1), october.length());
    assertEquals(Instant.parse("2027-02-28T23:00:00Z"), march.start());
    // Half of March's 743 hours after its start:
    Instant half = march.start().plus(Duration.ofMinutes(743 * 30));
    assertEquals(20.0, forecaster.forecast(10.0, march, half), 1e-9);
  }

  @Test
  void periodContainingAnInstantFollowsTheBillingZone() {
    Instant lateOnOctober31Utc = Instant.parse("2027-10-31T23:30:00Z");
    assertEquals(YearMonth.of(2027, 10), BillingPeriod.containing(lateOnOctober31Utc, UTC).month());
    assertEquals(YearMonth.of(2027, 11), BillingPeriod.containing(lateOnOctober31Utc, ZoneId.of("Europe/Rome")).month());
  }

  @Test
  void monthRolloverStartsANewPeriodAtMidnight() {
    Instant lastMillisecond = Instant.parse("2026-11-30T23:59:59.999Z");
    Instant firstInstant = Instant.parse("2026-12-01T00:00:00Z");
    BillingPeriod before = BillingPeriod.containing(lastMillisecond, UTC);
    BillingPeriod after = BillingPeriod.containing(firstInstant, UTC);
    assertEquals(YearMonth.of(2026, 11), before.month());
    assertEquals(YearMonth.of(2026, 12), after.month());
    assertEquals(before.end(), after.start());
    // The last instant of a month forecasts its spend as is.
    assertEquals(50.0, forecaster.forecast(50.0, before, before.end()), 1e-9);
  }
}
