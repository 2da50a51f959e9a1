package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.model.Thresholds;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;

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

  /** The sum over every provider, empty while any provider's is not read yet. */
  public OptionalDouble totalPreviousPeriodEur() {
    double sum = 0;
    for (ProviderCost p : providers) {
      if (p.previousPeriodEur().isEmpty()) {
        return OptionalDouble.empty();
      }
      sum += p.previousPeriodEur().getAsDouble();
    }
    return OptionalDouble.of(sum);
  }
}
