package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import dev.opswatch.exporter.model.Level;
import java.util.List;

/** The cost and budget families of docs/metrics.md, and how a {@link CostReport} fills them. */
public final class CostMetrics {
  static final MetricFamily PROVIDER = MetricFamily.info("opswatch_provider",
      "Cost provider: kind (metered or fixed) and display name.", "provider", "kind", "display_name");
  static final MetricFamily MONTH_TO_DATE = MetricFamily.gauge("opswatch_cost_month_to_date_eur",
      "Spend of the current billing period so far, EUR.", "provider");
  static final MetricFamily FORECAST = MetricFamily.gauge("opswatch_cost_forecast_eur",
      "Forecast spend at the end of the billing period, EUR.", "provider");
  static final MetricFamily TODAY = MetricFamily.gauge("opswatch_cost_today_eur",
      "Metered spend of the current day in the billing time zone, EUR (0 for a fixed fee).", "provider");
  static final MetricFamily PREVIOUS_PERIOD = MetricFamily.gauge("opswatch_cost_previous_period_eur",
      "Final spend of the previous billing period, EUR, read from the database.", "provider");
  static final MetricFamily QUERY_MONTH_TO_DATE = MetricFamily.gauge("opswatch_cost_query_month_to_date_eur",
      "Month-to-date spend per cost query of a metered provider, EUR.", "provider", "query");
  static final MetricFamily MODEL_COST = MetricFamily.gauge("opswatch_llm_cost_month_to_date_eur",
      "Spend of the billing period per model, EUR.", "provider", "model");
  static final MetricFamily MODEL_TOKENS = MetricFamily.gauge("opswatch_llm_tokens_month_to_date",
      "Tokens of the billing period per model and direction.", "provider", "model", "direction");
  static final MetricFamily BUDGET = MetricFamily.gauge("opswatch_budget_eur",
      "The provider's monthly budget, EUR.", "provider");
  static final MetricFamily WARNING_RATIO = MetricFamily.gauge("opswatch_budget_warning_ratio",
      "Usage ratio at which the budget status becomes warning.", "provider");
  static final MetricFamily CRITICAL_RATIO = MetricFamily.gauge("opswatch_budget_critical_ratio",
      "Usage ratio at which the budget status becomes critical.", "provider");
  static final MetricFamily USAGE_RATIO = MetricFamily.gauge("opswatch_budget_usage_ratio",
      "Month-to-date spend / budget.", "provider");
  static final MetricFamily FORECAST_RATIO = MetricFamily.gauge("opswatch_budget_forecast_ratio",
      "Forecast / budget.", "provider");
  static final MetricFamily STATUS = MetricFamily.stateSet("opswatch_budget_status",
      "Budget status of spend and of forecast.", Level.LABELS, "provider", "basis");
  static final MetricFamily TOTAL_MONTH_TO_DATE = MetricFamily.gauge("opswatch_cost_total_month_to_date_eur",
      "Month-to-date spend of all providers, EUR.");
  static final MetricFamily TOTAL_FORECAST = MetricFamily.gauge("opswatch_cost_total_forecast_eur",
      "Forecast spend of all providers at the end of the period, EUR.");
  static final MetricFamily TOTAL_TODAY = MetricFamily.gauge("opswatch_cost_total_today_eur",
      "Metered spend of all providers in the current day of the billing time zone, EUR.");
  static final MetricFamily TOTAL_PREVIOUS_PERIOD = MetricFamily.gauge("opswatch_cost_total_previous_period_eur",
      "Final spend of all providers in the previous billing period, EUR.");
  static final MetricFamily TOTAL_BUDGET = MetricFamily.gauge("opswatch_budget_total_eur",
      "The total monthly budget, EUR (a budget of its own).");
  static final MetricFamily TOTAL_USAGE_RATIO = MetricFamily.gauge("opswatch_budget_total_usage_ratio",
      "Total month-to-date spend / total budget.");
  static final MetricFamily TOTAL_FORECAST_RATIO = MetricFamily.gauge("opswatch_budget_total_forecast_ratio",
      "Total forecast / total budget.");
  static final MetricFamily TOTAL_WARNING_RATIO = MetricFamily.gauge("opswatch_budget_total_warning_ratio",
      "Warning ratio of the total budget.");
  static final MetricFamily TOTAL_CRITICAL_RATIO = MetricFamily.gauge("opswatch_budget_total_critical_ratio",
      "Critical ratio of the total budget.");
  static final MetricFamily TOTAL_STATUS = MetricFamily.stateSet("opswatch_budget_total_status",
      "Status of the total budget.", Level.LABELS, "basis");
  static final MetricFamily PERIOD_START = MetricFamily.gauge("opswatch_billing_period_start_timestamp_seconds",
      "Start of the current billing period.");
  static final MetricFamily PERIOD_END = MetricFamily.gauge("opswatch_billing_period_end_timestamp_seconds",
      "End of the current billing period (exclusive).");
  static final MetricFamily BILLING = MetricFamily.info("opswatch_billing",
      "The billing period's time zone and the currency of every amount; always 1.", "time_zone", "currency");

  public static final List<MetricFamily> FAMILIES = List.of(
      PROVIDER, MONTH_TO_DATE, FORECAST, TODAY, PREVIOUS_PERIOD, QUERY_MONTH_TO_DATE, MODEL_COST, MODEL_TOKENS,
      BUDGET, WARNING_RATIO, CRITICAL_RATIO, USAGE_RATIO, FORECAST_RATIO, STATUS, TOTAL_MONTH_TO_DATE, TOTAL_FORECAST,
      TOTAL_TODAY, TOTAL_PREVIOUS_PERIOD, TOTAL_BUDGET, TOTAL_USAGE_RATIO, TOTAL_FORECAST_RATIO, TOTAL_WARNING_RATIO,
      TOTAL_CRITICAL_RATIO, TOTAL_STATUS, PERIOD_START, PERIOD_END, BILLING);

  private CostMetrics() {}

  public static Samples render(CostReport r) {
    Samples m = new Samples();
    for (ProviderCost p : r.providers()) {
      String id = p.provider().id();
      m.info(PROVIDER, id, p.provider().kind().label(), p.provider().displayName());
      m.add(MONTH_TO_DATE, p.monthToDateEur(), id);
      m.add(FORECAST, p.forecastEur(), id);
      m.add(TODAY, p.todayEur(), id);
      p.previousPeriodEur().ifPresent(eur -> m.add(PREVIOUS_PERIOD, eur, id));
      p.costByQuery().forEach((query, eur) -> m.add(QUERY_MONTH_TO_DATE, eur, id, query));
      for (ModelUsage model : p.models()) {
        m.add(MODEL_COST, model.costEur(), id, model.model());
        tokens(m, id, model.model(), "input", model.tokensInput());
        tokens(m, id, model.model(), "output", model.tokensOutput());
        tokens(m, id, model.model(), "cached_input", model.tokensCachedInput());
      }
      if (p.budgetEur().isPresent()) {
        BudgetCheck spend = p.spend().orElseThrow();
        BudgetCheck forecast = p.forecast().orElseThrow();
        m.add(BUDGET, p.budgetEur().getAsDouble(), id);
        m.add(WARNING_RATIO, p.provider().thresholds().warning(), id);
        m.add(CRITICAL_RATIO, p.provider().thresholds().critical(), id);
        m.add(USAGE_RATIO, spend.ratio(), id);
        m.add(FORECAST_RATIO, forecast.ratio(), id);
        m.state(STATUS, spend.level().label(), id, "spend");
        m.state(STATUS, forecast.level().label(), id, "forecast");
      }
    }
    m.add(TOTAL_MONTH_TO_DATE, r.totalMonthToDateEur());
    m.add(TOTAL_FORECAST, r.totalForecastEur());
    m.add(TOTAL_TODAY, r.totalTodayEur());
    r.totalPreviousPeriodEur().ifPresent(eur -> m.add(TOTAL_PREVIOUS_PERIOD, eur));
    m.add(TOTAL_BUDGET, r.totalBudgetEur());
    m.add(TOTAL_USAGE_RATIO, r.totalSpend().ratio());
    m.add(TOTAL_FORECAST_RATIO, r.totalForecast().ratio());
    m.add(TOTAL_WARNING_RATIO, r.totalThresholds().warning());
    m.add(TOTAL_CRITICAL_RATIO, r.totalThresholds().critical());
    m.state(TOTAL_STATUS, r.totalSpend().level().label(), "spend");
    m.state(TOTAL_STATUS, r.totalForecast().level().label(), "forecast");
    m.add(PERIOD_START, r.period().start().getEpochSecond());
    m.add(PERIOD_END, r.period().end().getEpochSecond());
    m.info(BILLING, r.period().zone().getId(), CostReport.CURRENCY);
    return m;
  }

  private static void tokens(Samples m, String provider, String model, String direction, long tokens) {
    if (tokens != ModelUsage.NO_TOKENS) {
      m.add(MODEL_TOKENS, tokens, provider, model, direction);
    }
  }
}
