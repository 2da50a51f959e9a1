package dev.opswatch.exporter.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ProviderConfig;
import dev.opswatch.exporter.cost.BillingPeriod;
import dev.opswatch.exporter.cost.BudgetEvaluator;
import dev.opswatch.exporter.cost.CostReport;
import dev.opswatch.exporter.cost.Forecaster;
import dev.opswatch.exporter.cost.MeteredSpend;
import dev.opswatch.exporter.cost.ModelUsage;
import dev.opswatch.exporter.model.Thresholds;
import dev.opswatch.exporter.quota.QuotaDefinition;
import dev.opswatch.exporter.quota.QuotaProvider;
import dev.opswatch.exporter.quota.QuotaReport;
import dev.opswatch.exporter.quota.QuotaUsage;
import dev.opswatch.exporter.quota.QuotaWindow;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The CostDashboardData rules: forecast-based percent, the worse status, the source app's wording. */
class CostDashboardBuilderTest {
  private static final Thresholds BUDGET = new Thresholds(0.80, 0.95);
  /** Half of April has passed: the forecast is twice the spend. */
  private static final Instant NOW = Instant.parse("2026-04-16T00:00:00Z");
  private static final BillingPeriod APRIL = BillingPeriod.of(YearMonth.of(2026, 4), ZoneOffset.UTC);

  private static final ProviderConfig AZURE = new ProviderConfig(
      "azure_openai", "Azure OpenAI", ProviderConfig.Kind.METERED, 0, OptionalDouble.of(100), BUDGET, List.of("text_sessions", "voice"));
  private static final ProviderConfig VERCEL = new ProviderConfig(
      "vercel", "Vercel", ProviderConfig.Kind.FIXED, 20, OptionalDouble.empty(), BUDGET, List.of());
  private static final ProviderConfig SENTRY = new ProviderConfig(
      "sentry", "Sentry", ProviderConfig.Kind.FIXED, 26, OptionalDouble.of(30), BUDGET, List.of());

  private static CostReport costs(double textEur, double voiceEur) {
    BudgetEvaluator evaluator = new BudgetEvaluator(List.of(AZURE, VERCEL, SENTRY), 150, BUDGET, new Forecaster(Duration.ofHours(24)));
    return evaluator.evaluate(APRIL, NOW, Map.of("azure_openai",
        new MeteredSpend(Map.of("text_sessions", textEur, "voice", voiceEur),
            List.of(new ModelUsage("gpt-5-mini", textEur, 1000, 200, ModelUsage.NO_TOKENS), new ModelUsage("gpt-realtime", voiceEur, 50, 60, 7)),
            1.5, OptionalDouble.of(61.25))));
  }

  private static CostDashboardData.Service service(CostDashboardData data, String provider) {
    return data.services().stream().filter(s -> s.provider().equals(provider)).findFirst().orElseThrow();
  }

  @Test
  void meteredProviderUsesTheForecastAndTheWorseStatus() {
    CostDashboardData data = CostDashboardBuilder.build(costs(30, 10.004), List.of());
    CostDashboardData.Service azure = service(data, "azure_openai");
    assertEquals("Azure OpenAI", azure.service());
    assertEquals(40.0, azure.currentSpend());
    assertEquals(80.01, azure.estimatedMonthlyCost());
    assertEquals(100.0, azure.budgetLimit());
    assertEquals(80.01, azure.budgetUsagePercent());
    assertEquals("warning", azure.status(), "spend is ok (40 %), the forecast is a warning (80 %)");
    assertEquals(Map.of("text_sessions", 30.0, "voice", 10.0, "dailyAverage", 2.5), azure.details(), "daily average over 16 days: today counts, as in the source app");
    assertEquals(new CostDashboardData.Alert("Azure OpenAI", "Azure OpenAI approaching budget limit (80%)", "warning"),
        data.alerts().get(0));
  }

  @Test
  void criticalAndExceededAreCriticalAlerts() {
    CostDashboardData critical = CostDashboardBuilder.build(costs(48, 0), List.of());
    assertEquals("critical", service(critical, "azure_openai").status());
    assertEquals(new CostDashboardData.Alert("Azure OpenAI", "Azure OpenAI approaching budget limit (96%)", "critical"),
        critical.alerts().get(0));
    CostDashboardData exceeded = CostDashboardBuilder.build(costs(60, 0), List.of());
    assertEquals("exceeded", service(exceeded, "azure_openai").status());
    assertEquals(new CostDashboardData.Alert("Azure OpenAI", "Azure OpenAI has exceeded budget (120%)", "critical"),
        exceeded.alerts().get(0));
  }

  @Test
  void aFixedFeeWithoutBudgetIsShownAsFixedWithoutPercentOrAlert() {
    CostDashboardData data = CostDashboardBuilder.build(costs(0, 0), List.of());
    CostDashboardData.Service vercel = service(data, "vercel");
    assertEquals(new CostDashboardData.Service("Vercel", "vercel", "fixed", 20, 20, 0, 20.0, null, null, "fixed",
        Map.of("fixedMonthly", 20.0), List.of()), vercel);
    assertTrue(data.alerts().stream().noneMatch(a -> a.service().equals("Vercel")));
    CostDashboardData.Service sentry = service(data, "sentry");
    assertEquals(30.0, sentry.budgetLimit(), "a fixed provider with a budget of its own is checked against it");
    assertEquals(86.67, sentry.budgetUsagePercent());
    assertEquals("warning", sentry.status());
    assertEquals(46.0, data.totalMonthly());
    assertEquals(150.0, data.totalBudget());
    assertEquals("2026-04-16T00:00:00Z", data.timestamp());
  }

  @Test
  void totalsPeriodZoneCurrencyAndModels() {
    CostDashboardData data = CostDashboardBuilder.build(costs(30, 10), List.of());
    assertEquals(86.0, data.monthToDateTotal(), "40 metered + 20 + 26 fixed");
    assertEquals(126.0, data.forecastTotal(), "80 forecast + 46 fixed");
    assertEquals(data.forecastTotal(), data.totalMonthly(), "the plan's totalMonthly stays the forecast total");
    assertEquals(1.5, data.todayTotal(), "metered spend today; fixed fees are not daily spend");
    assertEquals(61.25 + 20 + 26, data.previousPeriodTotal());
    assertEquals(new CostDashboardData.BillingPeriod("2026-04", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"), data.billingPeriod());
    assertEquals("Z", data.timeZone());
    assertEquals("EUR", data.currency());
    CostDashboardData.Service azure = service(data, "azure_openai");
    assertEquals("metered", azure.kind());
    assertEquals(List.of(new CostDashboardData.Model("gpt-5-mini", 30.0, 1000L, 200L, null),
        new CostDashboardData.Model("gpt-realtime", 10.0, 50L, 60L, 7L)), azure.models());
  }

  @Test
  void aPreviousPeriodNotReadYetIsNullForTheMeteredProviderAndTheTotal() {
    BudgetEvaluator evaluator = new BudgetEvaluator(List.of(AZURE, VERCEL, SENTRY), 150, BUDGET, new Forecaster(Duration.ofHours(24)));
    CostReport report = evaluator.evaluate(APRIL, NOW, Map.of("azure_openai",
        new MeteredSpend(Map.of("text_sessions", 3.0), List.of(), 1.5, OptionalDouble.empty())));
    CostDashboardData data = CostDashboardBuilder.build(report, List.of());
    assertNull(service(data, "azure_openai").previousPeriodSpend());
    assertEquals(20.0, service(data, "vercel").previousPeriodSpend(), "a fixed fee is known without the database");
    assertNull(data.previousPeriodTotal(), "a sum without one of its parts would be wrong, not partial");
  }

  @Test
  void aZeroBudgetHasNoPercentButIsExceeded() {
    ProviderConfig zero = new ProviderConfig("azure_openai", "Azure OpenAI", ProviderConfig.Kind.METERED, 0, OptionalDouble.of(0), BUDGET,
        List.of("text_sessions"));
    CostReport report = new BudgetEvaluator(List.of(zero), 150, BUDGET, new Forecaster(Duration.ofHours(24)))
        .evaluate(APRIL, NOW, Map.of("azure_openai", new MeteredSpend(Map.of("text_sessions", 1.0), List.of(), 0, OptionalDouble.of(0))));
    CostDashboardData.Service azure = CostDashboardBuilder.build(report, List.of()).services().get(0);
    assertNull(azure.budgetUsagePercent());
    assertEquals("exceeded", azure.status());
  }

  @Test
  void quotasWithTheirPercentAndCriticalAlerts() {
    QuotaProvider azure = new QuotaProvider("azure_openai", "Azure OpenAI", "azure_openai");
    QuotaProvider drive = new QuotaProvider("google_drive", "Google Drive", "google_drive");
    QuotaProvider brave = new QuotaProvider("brave_search", "Brave Search", "brave_search");
    QuotaWindow minute = QuotaWindow.rolling(Duration.ofMinutes(1));
    QuotaWindow month = QuotaWindow.month();
    QuotaDefinition chat = new QuotaDefinition(azure, "chat_tokens_per_minute", "Chat Tokens/min", List.of("chat_completion"),
        QuotaDefinition.Measure.SUM, minute, "1m", 1000, new Thresholds(0.80, 0.95));
    QuotaDefinition driveMinute = new QuotaDefinition(drive, "queries_per_minute", "Queries/min", List.of(),
        QuotaDefinition.Measure.COUNT, minute, "1m", 1000, new Thresholds(0.70, 0.90));
    QuotaDefinition braveMonth = new QuotaDefinition(brave, "queries_per_month", "Queries/month", List.of(),
        QuotaDefinition.Measure.COUNT, month, "month", 2000, new Thresholds(0.50, 0.90));
    QuotaReport fast = new QuotaReport(NOW, List.of(
        QuotaUsage.of(chat, 960, minute.at(NOW, ZoneOffset.UTC)), QuotaUsage.of(driveMinute, 700, minute.at(NOW, ZoneOffset.UTC))), List.of());
    QuotaReport slow = new QuotaReport(NOW, List.of(QuotaUsage.of(braveMonth, 2000, month.at(NOW, ZoneOffset.UTC))), List.of());

    CostDashboardData data = CostDashboardBuilder.build(costs(0, 0), List.of(fast, slow));
    assertEquals(List.of(
            new CostDashboardData.Quota("Azure OpenAI", "Chat Tokens/min", "azure_openai", "chat_tokens_per_minute", 960, 1000, 96.0, "critical", "1m"),
            new CostDashboardData.Quota("Brave Search", "Queries/month", "brave_search", "queries_per_month", 2000, 2000, 100.0, "exceeded", "month"),
            new CostDashboardData.Quota("Google Drive", "Queries/min", "google_drive", "queries_per_minute", 700, 1000, 70.0, "warning", "1m")),
        data.quotas());
    assertEquals(List.of(
            new CostDashboardData.Alert("Sentry", "Sentry approaching budget limit (87%)", "warning"),
            new CostDashboardData.Alert("Azure OpenAI", "Chat Tokens/min: 96.0% of quota used", "critical"),
            new CostDashboardData.Alert("Brave Search", "Queries/month: 100.0% of quota used", "critical")),
        data.alerts(), "a quota warning is no alert, as in the source app");
  }
}
