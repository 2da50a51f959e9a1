package dev.opswatch.exporter.admin;

import java.util.List;
import java.util.Map;

/**
 * The original plan's {@code CostDashboardData}, as {@code GET /api/cost-tracking} serves it. Money in
 * EUR and percentages rounded to 2 decimals, as the source app does. Beyond the plan, each entry
 * also carries the ids that label its series in /metrics ({@code provider}, {@code quota}).
 */
public record CostDashboardData(
    List<Service> services,
    double totalMonthly,
    double totalBudget,
    List<Alert> alerts,
    List<Quota> quotas,
    String timestamp) {

  /**
   * One provider. {@code estimatedMonthlyCost} is the forecast, {@code currentSpend} the
   * month-to-date spend, {@code budgetUsagePercent} forecast / budget (null for a zero budget) and
   * {@code status} the worse of the spend's and the forecast's budget status.
   */
  public record Service(
      String service,
      String provider,
      double estimatedMonthlyCost,
      double currentSpend,
      double budgetLimit,
      Double budgetUsagePercent,
      String status,
      Map<String, Double> details) {}

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
