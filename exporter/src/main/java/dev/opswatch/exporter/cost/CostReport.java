package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.model.Thresholds;
import java.time.Instant;
import java.util.List;

/** Everything the cost source knows after one refresh; immutable, shared by /metrics and the admin API. */
public record CostReport(
    Instant computedAt,
    BillingPeriod period,
    List<ProviderCost> providers,
    double totalMonthToDateEur,
    double totalForecastEur,
    double totalBudgetEur,
    Thresholds totalThresholds,
    BudgetCheck totalSpend,
    BudgetCheck totalForecast) {

  /** Every amount is in this currency. */
  public static final String CURRENCY = "EUR";

  public double totalTodayEur() {
    return providers.stream().mapToDouble(ProviderCost::todayEur).sum();
  }

  public double totalPreviousPeriodEur() {
    return providers.stream().mapToDouble(ProviderCost::previousPeriodEur).sum();
  }
}
