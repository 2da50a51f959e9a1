package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.metrics.MetricFamilies;
import dev.opswatch.exporter.model.Level;
import java.util.Arrays;
import java.util.List;

/** Renders a {@link CostReport} as the cost and budget families of docs/metrics.md. */
public final class CostMetrics {
  public static final List<String> LEVELS = Arrays.stream(Level.values()).map(Level::label).toList();

  private CostMetrics() {}

  public static MetricFamilies render(CostReport r) {
    MetricFamilies m = new MetricFamilies();
    for (ProviderCost p : r.providers()) {
      String id = p.provider().id();
      m.info("opswatch_provider", "Cost provider: kind (metered or fixed) and display name.",
          "provider", id, "kind", p.provider().kind().label(), "display_name", p.provider().displayName());
      m.gauge("opswatch_cost_month_to_date_eur", "Spend of the current billing period so far, EUR.", p.monthToDateEur(), "provider", id);
      m.gauge("opswatch_cost_forecast_eur", "Forecast spend at the end of the billing period, EUR.", p.forecastEur(), "provider", id);
      p.costByQuery().forEach((query, eur) -> m.gauge(
          "opswatch_cost_query_month_to_date_eur", "Month-to-date spend per cost query of a metered provider, EUR.",
          eur, "provider", id, "query", query));
      for (ModelUsage model : p.models()) {
        m.gauge("opswatch_llm_cost_month_to_date_eur", "Spend of the billing period per model, EUR.",
            model.costEur(), "provider", id, "model", model.model());
        tokens(m, id, model.model(), "input", model.tokensInput());
        tokens(m, id, model.model(), "output", model.tokensOutput());
        tokens(m, id, model.model(), "cached_input", model.tokensCachedInput());
      }
      if (p.budgetEur().isPresent()) {
        m.gauge("opswatch_budget_eur", "The provider's monthly budget, EUR.", p.budgetEur().getAsDouble(), "provider", id);
        m.gauge("opswatch_budget_warning_ratio", "Usage ratio at which the budget status becomes warning.", p.provider().thresholds().warning(), "provider", id);
        m.gauge("opswatch_budget_critical_ratio", "Usage ratio at which the budget status becomes critical.", p.provider().thresholds().critical(), "provider", id);
        BudgetCheck spend = p.spend().orElseThrow();
        BudgetCheck forecast = p.forecast().orElseThrow();
        m.gauge("opswatch_budget_usage_ratio", "Month-to-date spend / budget.", spend.ratio(), "provider", id);
        m.gauge("opswatch_budget_forecast_ratio", "Forecast / budget.", forecast.ratio(), "provider", id);
        m.stateSet("opswatch_budget_status", "Budget status of spend and of forecast.", LEVELS, spend.level().label(), "provider", id, "basis", "spend");
        m.stateSet("opswatch_budget_status", "Budget status of spend and of forecast.", LEVELS, forecast.level().label(), "provider", id, "basis", "forecast");
      }
    }
    m.gauge("opswatch_cost_total_month_to_date_eur", "Month-to-date spend of all providers, EUR.", r.totalMonthToDateEur());
    m.gauge("opswatch_cost_total_forecast_eur", "Forecast spend of all providers at the end of the period, EUR.", r.totalForecastEur());
    m.gauge("opswatch_budget_total_eur", "The total monthly budget, EUR (a budget of its own).", r.totalBudgetEur());
    m.gauge("opswatch_budget_total_usage_ratio", "Total month-to-date spend / total budget.", r.totalSpend().ratio());
    m.gauge("opswatch_budget_total_forecast_ratio", "Total forecast / total budget.", r.totalForecast().ratio());
    m.gauge("opswatch_budget_total_warning_ratio", "Warning ratio of the total budget.", r.totalThresholds().warning());
    m.gauge("opswatch_budget_total_critical_ratio", "Critical ratio of the total budget.", r.totalThresholds().critical());
    m.stateSet("opswatch_budget_total_status", "Status of the total budget.", LEVELS, r.totalSpend().level().label(), "basis", "spend");
    m.stateSet("opswatch_budget_total_status", "Status of the total budget.", LEVELS, r.totalForecast().level().label(), "basis", "forecast");
    m.gauge("opswatch_billing_period_start_timestamp_seconds", "Start of the current billing period.", r.period().start().getEpochSecond());
    m.gauge("opswatch_billing_period_end_timestamp_seconds", "End of the current billing period (exclusive).", r.period().end().getEpochSecond());
    return m;
  }

  private static void tokens(MetricFamilies m, String provider, String model, String direction, long tokens) {
    if (tokens != ModelUsage.NO_TOKENS) {
      m.gauge("opswatch_llm_tokens_month_to_date", "Tokens of the billing period per model and direction.",
          tokens, "provider", provider, "model", model, "direction", direction);
    }
  }
}
