package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.config.ProviderConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One provider's figures for the billing period. {@code spend} and {@code forecast} are empty
 * when the provider has no budget (a fixed provider without one). {@code todayEur} is the metered
 * spend of the current day (0 for a fixed fee, which is billed with the period, not per day);
 * {@code previousPeriodEur} the final spend of the previous period, empty while a metered
 * provider's is not read yet (a fixed provider's is its fee).
 */
public record ProviderCost(
    ProviderConfig provider,
    double monthToDateEur,
    double forecastEur,
    OptionalDouble budgetEur,
    Optional<BudgetCheck> spend,
    Optional<BudgetCheck> forecast,
    Map<String, Double> costByQuery,
    List<ModelUsage> models,
    double todayEur,
    OptionalDouble previousPeriodEur) {

  public boolean fixed() {
    return provider.kind() == ProviderConfig.Kind.FIXED;
  }
}
