package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.config.ProviderConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One provider's figures for the billing period. {@code spend} and {@code forecast} are empty
 * when the provider has no budget (a fixed provider without one).
 */
public record ProviderCost(
    ProviderConfig provider,
    double monthToDateEur,
    double forecastEur,
    OptionalDouble budgetEur,
    Optional<BudgetCheck> spend,
    Optional<BudgetCheck> forecast,
    Map<String, Double> costByQuery,
    List<ModelUsage> models) {}
