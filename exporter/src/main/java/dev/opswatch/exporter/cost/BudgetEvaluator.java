package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.config.ProviderConfig;
import dev.opswatch.exporter.model.Thresholds;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Turns month-to-date spend into forecasts and budget levels. Pure: no clock and no database,
 * so the calendar edges are unit-tested directly.
 *
 * <p>A fixed provider is billed its whole fee at the start of the period, so its month-to-date
 * spend, its forecast and its previous period's spend are all the fee, and nothing of it is spent
 * "today".
 */
public final class BudgetEvaluator {
  private final List<ProviderConfig> providers;
  private final double totalBudgetEur;
  private final Thresholds totalThresholds;
  private final Forecaster forecaster;

  public BudgetEvaluator(
      List<ProviderConfig> providers, double totalBudgetEur, Thresholds totalThresholds, Forecaster forecaster) {
    this.providers = List.copyOf(providers);
    this.totalBudgetEur = totalBudgetEur;
    this.totalThresholds = totalThresholds;
    this.forecaster = forecaster;
  }

  /** @param metered spend per metered provider id; a missing entry counts as no spend */
  public CostReport evaluate(BillingPeriod period, Instant now, Map<String, MeteredSpend> metered) {
    List<ProviderCost> costs = new ArrayList<>();
    double totalMtd = 0;
    double totalForecast = 0;
    for (ProviderConfig p : providers) {
      ProviderCost cost = p.kind() == ProviderConfig.Kind.FIXED
          ? fixed(p)
          : metered(p, metered.getOrDefault(p.id(), MeteredSpend.NONE), period, now);
      costs.add(cost);
      totalMtd += cost.monthToDateEur();
      totalForecast += cost.forecastEur();
    }
    return new CostReport(
        now,
        period,
        List.copyOf(costs),
        totalMtd,
        totalForecast,
        totalBudgetEur,
        totalThresholds,
        BudgetCheck.of(totalMtd, totalBudgetEur, totalThresholds),
        BudgetCheck.of(totalForecast, totalBudgetEur, totalThresholds));
  }

  private ProviderCost fixed(ProviderConfig p) {
    double fee = p.monthlyFeeEur();
    return new ProviderCost(
        p, fee, fee, p.budgetEur(), check(fee, p), check(fee, p), Map.of(), List.of(), 0, OptionalDouble.of(fee));
  }

  private ProviderCost metered(ProviderConfig p, MeteredSpend spend, BillingPeriod period, Instant now) {
    double mtd = spend.totalEur();
    double forecast = forecaster.forecast(mtd, period, now);
    return new ProviderCost(
        p, mtd, forecast, p.budgetEur(), check(mtd, p), check(forecast, p), Map.copyOf(spend.costByQuery()),
        List.copyOf(spend.models()), spend.todayEur(), spend.previousPeriodEur());
  }

  private static Optional<BudgetCheck> check(double amount, ProviderConfig p) {
    OptionalDouble budget = p.budgetEur();
    return budget.isPresent() ? Optional.of(BudgetCheck.of(amount, budget.getAsDouble(), p.thresholds())) : Optional.empty();
  }
}
