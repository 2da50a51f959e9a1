package dev.opswatch.exporter.admin;

import java.util.List;
import java.util.Map;

/**
 * The original plan's {@code CostDashboardData}, as {@code GET /api/cost-tracking} serves it, with
 * what an admin page and a finance review need besides: month-to-date, forecast, today's and the
 * previous period's totals, the billing period, its time zone and currency, and per-model costs.
 * Money in the currency (EUR), percentages rounded to 2 decimals, as the source app does. Each entry
 * also carries the ids that label its series in /metrics ({@code provider}, {@code quota}).
 *
 * @param totalMonthly the plan's field: the sum of the forecasts (= {@code forecastTotal})
 */
public record CostDashboardData(
    List<Service> services,
    double totalMonthly,
    double monthToDateTotal,
    double forecastTotal,
    double todayTotal,
    Double previousPeriodTotal,
    double totalBudget,
    BillingPeriod billingPeriod,
    String timeZone,
    String currency,
    List<Alert> alerts,
    List<Quota> quotas,
    String timestamp) {

  /** The current calendar month in the billing time zone: {@code month} as 2026-11, bounds as instants. */
  public record BillingPeriod(String month, String start, String end) {}

  /**
   * One provider. {@code estimatedMonthlyCost} is the forecast, {@code currentSpend} the
   * month-to-date spend, {@code budgetUsagePercent} forecast / budget (null for a zero budget) and
   * {@code status} the worse of the spend's and the forecast's budget status. A fixed fee without a
   * budget is shown as what it is: {@code kind} fixed, {@code status} fixed, no limit and no percent.
   */
  public record Service(
      String service,
      String provider,
      String kind,
      double estimatedMonthlyCost,
      double currentSpend,
      double todaySpend,
      Double previousPeriodSpend,
      Double budgetLimit,
      Double budgetUsagePercent,
      String status,
      Map<String, Double> details,
      List<Model> models) {}

  /** One model's spend and tokens in the period; token counts are null where its table has none. */
  public record Model(String model, double cost, Long tokensInput, Long tokensOutput, Long tokensCachedInput) {}

  /** {@code severity} is warning or critical. */
  public record Alert(String service, String message, String severity) {}

  /** One external quota, as the source app's {@code ExternalServiceUsage}. */
  public record Quota(
      String service,
      String metric,
      String provider,
      String quota,
      double currentValue,
      double limit,
      double usagePercent,
      String status,
      String period) {}
}
