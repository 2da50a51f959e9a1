package dev.opswatch.exporter.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The previous period's final figures and today's spend, in Europe/Rome across the October to
 * November 2026 rollover (a month that also ends daylight saving time): read from the database, so
 * the same after the rollover, after a restart, and after a late correction of a closed month.
 */
class BillingRolloverIT {
  private static final String ROME = "opswatch.billing.time-zone = \"Europe/Rome\"\n";
  /** 23:45 on 31 October in Rome (CET, UTC+1). */
  private static final Instant LAST_MINUTES_OF_OCTOBER = Instant.parse("2026-10-31T22:45:00Z");
  /** 00:30 on 1 November in Rome. */
  private static final Instant FIRST_MINUTES_OF_NOVEMBER = Instant.parse("2026-10-31T23:30:00Z");
  private static final double FIXED_FEES = 20 + 25 + 26;

  private static TestDatabase db;

  @BeforeAll
  static void rows() {
    db = TestDatabase.create();
    // Timestamps are UTC, as Prisma stores them.
    db.execute("""
        INSERT INTO "User" (id) VALUES ('u1');
        INSERT INTO session_metrics (id, "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "isTestData", "createdAt", "updatedAt") VALUES
          ('sep', 'sep', 'u1', 1, 1, 9.00, false, '2026-09-30 21:59:59', now()),  -- 23:59:59 CEST on 30 September
          ('oct1', 'oct1', 'u1', 1, 1, 3.00, false, '2026-09-30 22:00:00', now()), -- 00:00 CEST on 1 October
          ('oct5', 'oct5', 'u1', 1, 1, 4.00, false, '2026-10-05 10:00:00', now()),
          ('oct31', 'oct31', 'u1', 1, 1, 2.00, false, '2026-10-31 22:30:00', now()), -- 23:30 CET on 31 October
          ('nov1', 'nov1', 'u1', 1, 1, 1.25, false, '2026-10-31 23:00:00', now()),  -- 00:00 CET on 1 November
          ('nov1b', 'nov1b', 'u1', 1, 1, 0.50, false, '2026-10-31 23:10:00', now());
        """);
  }

  @AfterAll
  static void drop() {
    db.close();
  }

  private static SourceOutput<CostReport> refresh(CostSource source, Instant now) throws Exception {
    return source.refresh(now);
  }

  private static ProviderCost azure(SourceOutput<CostReport> out) {
    return out.payload().providers().stream().filter(p -> p.provider().id().equals("azure_openai")).findFirst().orElseThrow();
  }

  /** The previous period of a refresh that read it. */
  private static double previous(SourceOutput<CostReport> out) {
    return azure(out).previousPeriodEur().orElseThrow(() -> new AssertionError("the previous period was not read"));
  }

  @Test
  void theClosedMonthKeepsItsFinalTotalAcrossTheRolloverAndARestart() throws Exception {
    ExporterConfig config = TestConfigs.forDatabase(db, ROME);
    try (Database database = new Database(config.database())) {
      CostSource source = new CostSource(config, database);
      SourceOutput<CostReport> first = refresh(source, LAST_MINUTES_OF_OCTOBER.minusSeconds(60));
      assertTrue(azure(first).previousPeriodEur().isEmpty(), "the first refresh, which readiness waits for, leaves it out");
      Exposition firstMetrics = Exposition.of(first.metrics());
      assertTrue(firstMetrics.find("opswatch_cost_previous_period_eur", "provider", "azure_openai").isEmpty(), "absent, not 0");
      assertEquals(20, firstMetrics.value("opswatch_cost_previous_period_eur", "provider", "vercel"), "a fixed fee is known");
      assertFalse(firstMetrics.hasFamily("opswatch_cost_total_previous_period_eur"), "a total without a part is absent");
      assertEquals(3 + 4 + 2, azure(first).monthToDateEur(), 1e-9, "everything else is there");

      SourceOutput<CostReport> october = refresh(source, LAST_MINUTES_OF_OCTOBER);
      assertEquals(3 + 4 + 2, azure(october).monthToDateEur(), 1e-9, "October in Rome time");
      assertEquals(2, azure(october).todayEur(), 1e-9, "31 October, from midnight in Rome");
      assertEquals(9, previous(october), 1e-9, "September in Rome time, read at the second refresh");

      SourceOutput<CostReport> november = refresh(source, FIRST_MINUTES_OF_NOVEMBER);
      assertEquals(1.75, azure(november).monthToDateEur(), 1e-9);
      assertEquals(1.75, azure(november).todayEur(), 1e-9);
      assertEquals(9, previous(november), 1e-9, "October's final total, read at once after the rollover");
      Exposition m = Exposition.of(november.metrics());
      assertEquals(9, m.value("opswatch_cost_previous_period_eur", "provider", "azure_openai"), 1e-9);
      assertEquals(20, m.value("opswatch_cost_previous_period_eur", "provider", "vercel"), "a fixed provider's period is its fee");
      assertEquals(9 + FIXED_FEES, m.value("opswatch_cost_total_previous_period_eur"), 1e-9);
      assertEquals(0, m.value("opswatch_cost_today_eur", "provider", "vercel"), "a fixed fee is not daily spend");
      assertEquals(1.75, m.value("opswatch_cost_total_today_eur"), 1e-9);
      assertEquals(1, m.value("opswatch_billing_info", "time_zone", "Europe/Rome", "currency", "EUR"));
      assertEquals(Instant.parse("2026-10-31T23:00:00Z").getEpochSecond(), m.value("opswatch_billing_period_start_timestamp_seconds"));
    }
    // A restart: a new pool and source, nothing carried over in memory.
    try (Database database = new Database(config.database())) {
      CostSource restarted = new CostSource(config, database);
      assertTrue(azure(refresh(restarted, FIRST_MINUTES_OF_NOVEMBER.plusSeconds(60))).previousPeriodEur().isEmpty());
      SourceOutput<CostReport> second = refresh(restarted, FIRST_MINUTES_OF_NOVEMBER.plusSeconds(120));
      assertEquals(9, previous(second), 1e-9, "from the database after a restart");
      assertEquals(9 + FIXED_FEES, second.payload().totalPreviousPeriodEur().orElseThrow(), 1e-9);
    }
  }

  @Test
  void aLateCorrectionOfTheClosedMonthIsReadAtTheNextPreviousPeriodRefresh() throws Exception {
    ExporterConfig config = TestConfigs.forDatabase(db, ROME);
    try (Database database = new Database(config.database())) {
      CostSource source = new CostSource(config, database);
      Instant read = FIRST_MINUTES_OF_NOVEMBER.plusSeconds(60);
      refresh(source, FIRST_MINUTES_OF_NOVEMBER);
      assertEquals(9, previous(refresh(source, read)), 1e-9);
      db.execute("""
          INSERT INTO session_metrics (id, "sessionId", "userId", "tokensIn", "tokensOut", "costEur", "isTestData", "createdAt", "updatedAt")
          VALUES ('late', 'late', 'u1', 1, 1, 0.40, false, '2026-10-20 12:00:00', now())
          """);
      try {
        assertEquals(9, previous(refresh(source, read.plus(Duration.ofHours(2)))), 1e-9,
            "a closed month is not re-read at the hourly closed-days-refresh");
        assertEquals(9, previous(refresh(source, read.plus(Duration.ofHours(24)).minusSeconds(1))), 1e-9);
        assertEquals(9.40, previous(refresh(source, read.plus(Duration.ofHours(24)))), 1e-9, "previous-period-refresh = 24h");
      } finally {
        db.execute("DELETE FROM session_metrics WHERE id = 'late'");
      }
    }
  }
}
