package dev.opswatch.exporter.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ProviderConfig;
import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.model.Thresholds;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BudgetEvaluatorTest {
  private static final Thresholds DEFAULT = new Thresholds(0.80, 0.95);
  private static final ProviderConfig AZURE = new ProviderConfig(
      "azure_openai", "Azure OpenAI", ProviderConfig.Kind.METERED, 0, OptionalDouble.of(79), DEFAULT, List.of("text"));
  private static final ProviderConfig VERCEL = new ProviderConfig(
      "vercel", "Vercel", ProviderConfig.Kind.FIXED, 20, OptionalDouble.empty(), DEFAULT, List.of());
  private static final BillingPeriod NOVEMBER = BillingPeriod.of(YearMonth.of(2026, 11), ZoneOffset.UTC);
  private static final Instant HALF_WAY = Instant.parse("2026-11-16T00:00:00Z");

  private final BudgetEvaluator evaluator =
      new BudgetEvaluator(List.of(AZURE, VERCEL), 150, DEFAULT, new Forecaster(Duration.ofDays(1)));

  private static Map<String, MeteredSpend> azure(double eur) {
    return Map.of("azure_openai", new MeteredSpend(Map.of("text", eur), List.of(), 0, OptionalDouble.of(0)));
  }

  @ParameterizedTest(name = "{0} of 79 EUR is {1}")
  @CsvSource({"0, OK", "63.19, OK", "63.2, WARNING", "75.04, WARNING", "75.05, CRITICAL", "78.99, CRITICAL", "79, EXCEEDED", "200, EXCEEDED"})
  void spendLevelsAtTheThresholdEdges(double spend, Level expected) {
    CostReport r = evaluator.evaluate(NOVEMBER, HALF_WAY, azure(spend));
    assertEquals(expected, r.providers().get(0).spend().orElseThrow().level());
  }

  @Test
  void forecastIsJudgedSeparatelyFromSpend() {
    // 33 EUR half-way: spend ratio 0.42 (ok), forecast 66 -> 0.835 (warning).
    ProviderCost p = evaluator.evaluate(NOVEMBER, HALF_WAY, azure(33)).providers().get(0);
    assertEquals(66.0, p.forecastEur(), 1e-9);
    assertEquals(Level.OK, p.spend().orElseThrow().level());
    assertEquals(Level.WARNING, p.forecast().orElseThrow().level());
    assertEquals(66.0 / 79, p.forecast().orElseThrow().ratio(), 1e-12);
  }

  @Test
  void fixedProviderCostsItsFeeAndHasNoBudgetUnlessGiven() {
    ProviderCost vercel = evaluator.evaluate(NOVEMBER, HALF_WAY, azure(10)).providers().get(1);
    assertEquals(20.0, vercel.monthToDateEur());
    assertEquals(20.0, vercel.forecastEur());
    assertFalse(vercel.spend().isPresent());

    ProviderConfig budgeted = new ProviderConfig("vercel", "Vercel", ProviderConfig.Kind.FIXED, 20, OptionalDouble.of(18), DEFAULT, List.of());
    ProviderCost over = new BudgetEvaluator(List.of(budgeted), 150, DEFAULT, new Forecaster(Duration.ofDays(1)))
        .evaluate(NOVEMBER, HALF_WAY, Map.of()).providers().get(0);
    assertEquals(Level.EXCEEDED, over.spend().orElseThrow().level());
  }

  @Test
  void totalBudgetIsABudgetOfItsOwn() {
    // 40 EUR half-way: total MTD 60 (0.4 of 150), total forecast 80 + 20 = 100.
    CostReport r = evaluator.evaluate(NOVEMBER, HALF_WAY, azure(40));
    assertEquals(60.0, r.totalMonthToDateEur(), 1e-9);
    assertEquals(100.0, r.totalForecastEur(), 1e-9);
    assertEquals(0.4, r.totalSpend().ratio(), 1e-12);
    assertEquals(Level.OK, r.totalForecast().level());
    assertEquals(Level.EXCEEDED, r.providers().get(0).forecast().orElseThrow().level());
  }

  @Test
  void zeroBudgetIsExceededByAnySpendButNotByNone() {
    assertEquals(Level.OK, BudgetCheck.of(0, 0, DEFAULT).level());
    BudgetCheck spent = BudgetCheck.of(0.01, 0, DEFAULT);
    assertEquals(Level.EXCEEDED, spent.level());
    assertTrue(Double.isInfinite(spent.ratio()));
  }
}
