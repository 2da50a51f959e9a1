package dev.opswatch.exporter.admin;

import dev.opswatch.exporter.cost.BudgetCheck;
import dev.opswatch.exporter.cost.CostReport;
import dev.opswatch.exporter.cost.ModelUsage;
import dev.opswatch.exporter.cost.ProviderCost;
import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.quota.QuotaReport;
import dev.opswatch.exporter.quota.QuotaUsage;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Builds {@link CostDashboardData} from the same reports /metrics renders, so both always agree.
 * Pure; alert wording follows the source app's cost tracker.
 */
public final class CostDashboardBuilder {
  /** The status of a fixed fee without a budget: not a level, since there is nothing to exceed. */
  static final String FIXED = "fixed";

  private CostDashboardBuilder() {}

  public static CostDashboardData build(CostReport cost, List<QuotaReport> quotaReports) {
    List<CostDashboardData.Service> services = new ArrayList<>();
    List<CostDashboardData.Alert> alerts = new ArrayList<>();
    for (ProviderCost p : cost.providers()) {
      CostDashboardData.Service service = service(p, cost);
      services.add(service);
      budgetAlert(service).ifPresent(alerts::add);
    }
    List<CostDashboardData.Quota> quotas = new ArrayList<>();
    quotaReports.stream()
        .flatMap(r -> r.usages().stream())
        .sorted(Comparator.comparing((QuotaUsage u) -> u.quota().provider().id()).thenComparing(u -> u.quota().id()))
        .forEach(u -> {
          CostDashboardData.Quota quota = quota(u);
          quotas.add(quota);
          if (u.level() == Level.CRITICAL || u.level() == Level.EXCEEDED) {
            alerts.add(new CostDashboardData.Alert(quota.service(),
                String.format(Locale.ROOT, "%s: %.1f%% of quota used", quota.metric(), quota.usagePercent()), "critical"));
          }
        });
    return new CostDashboardData(
        List.copyOf(services), round2(cost.totalForecastEur()), round2(cost.totalMonthToDateEur()),
        round2(cost.totalForecastEur()), round2(cost.totalTodayEur()), round2OrNull(cost.totalPreviousPeriodEur()),
        round2(cost.totalBudgetEur()),
        new CostDashboardData.BillingPeriod(cost.period().month().toString(), cost.period().start().toString(),
            cost.period().end().toString()),
        cost.period().zone().getId(), CostReport.CURRENCY, List.copyOf(alerts), List.copyOf(quotas),
        cost.computedAt().toString());
  }

  private static CostDashboardData.Service service(ProviderCost p, CostReport cost) {
    String name = p.provider().displayName();
    String id = p.provider().id();
    String kind = p.provider().kind().label();
    Map<String, Double> details = new LinkedHashMap<>();
    List<CostDashboardData.Model> models = p.models().stream().map(CostDashboardBuilder::model).toList();
    if (p.fixed()) {
      details.put("fixedMonthly", round2(p.monthToDateEur()));
    } else {
      p.costByQuery().forEach((query, eur) -> details.put(query, round2(eur)));
      int dayOfMonth = ZonedDateTime.ofInstant(cost.computedAt(), cost.period().zone()).getDayOfMonth();
      details.put("dailyAverage", round2(p.monthToDateEur() / dayOfMonth));
    }
    if (p.budgetEur().isEmpty()) {
      // A fixed fee without a budget: no limit, no percentage, no alarm.
      return new CostDashboardData.Service(name, id, kind, round2(p.forecastEur()), round2(p.monthToDateEur()),
          round2(p.todayEur()), round2OrNull(p.previousPeriodEur()), null, null, FIXED, details, models);
    }
    BudgetCheck spend = p.spend().orElseThrow();
    BudgetCheck forecast = p.forecast().orElseThrow();
    Level worse = spend.level().compareTo(forecast.level()) >= 0 ? spend.level() : forecast.level();
    return new CostDashboardData.Service(
        name, id, kind, round2(p.forecastEur()), round2(p.monthToDateEur()), round2(p.todayEur()),
        round2OrNull(p.previousPeriodEur()), round2(p.budgetEur().getAsDouble()), percent(forecast.ratio()), worse.label(),
        details, models);
  }

  private static CostDashboardData.Model model(ModelUsage m) {
    return new CostDashboardData.Model(m.model(), round2(m.costEur()), tokens(m.tokensInput()), tokens(m.tokensOutput()),
        tokens(m.tokensCachedInput()));
  }

  private static Long tokens(long n) {
    return n == ModelUsage.NO_TOKENS ? null : n;
  }

  private static Optional<CostDashboardData.Alert> budgetAlert(CostDashboardData.Service s) {
    if (s.status().equals(FIXED)) {
      return Optional.empty();
    }
    String percent = s.budgetUsagePercent() == null ? "∞" : String.format(Locale.ROOT, "%.0f", s.budgetUsagePercent());
    return switch (Level.valueOf(s.status().toUpperCase(Locale.ROOT))) {
      case EXCEEDED -> Optional.of(new CostDashboardData.Alert(
          s.service(), s.service() + " has exceeded budget (" + percent + "%)", "critical"));
      case CRITICAL -> Optional.of(new CostDashboardData.Alert(
          s.service(), s.service() + " approaching budget limit (" + percent + "%)", "critical"));
      case WARNING -> Optional.of(new CostDashboardData.Alert(
          s.service(), s.service() + " approaching budget limit (" + percent + "%)", "warning"));
      case OK -> Optional.empty();
    };
  }

  private static CostDashboardData.Quota quota(QuotaUsage u) {
    return new CostDashboardData.Quota(
        u.quota().provider().displayName(), u.quota().displayName(), u.quota().provider().id(), u.quota().id(),
        u.usage(), u.quota().limit(), Math.round(u.ratio() * 10000) / 100.0, u.level().label(), u.quota().period());
  }

  /** A ratio as a percentage with 2 decimals; null when it is not finite (a zero budget). */
  private static Double percent(double ratio) {
    return Double.isFinite(ratio) ? round2(ratio * 100) : null;
  }

  /** Null while the amount is not read yet (the previous period in a source's first refresh). */
  private static Double round2OrNull(OptionalDouble value) {
    return value.isPresent() ? round2(value.getAsDouble()) : null;
  }

  static double round2(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
