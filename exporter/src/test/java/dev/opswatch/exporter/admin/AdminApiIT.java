package dev.opswatch.exporter.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.cost.CostReport;
import dev.opswatch.exporter.incident.IncidentReport;
import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.quota.QuotaReport;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin API over HTTP: its token, its 404 and 503, and numbers equal to /metrics. */
class AdminApiIT {
  private static final String TOKEN = "admin-token-for-tests";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** One refresh per source during the test, so /metrics and the JSON show the same snapshot. */
  private static final String ONE_REFRESH = """
      opswatch.sources.costs.refresh-interval = 1h
      opswatch.sources.quotas_fast.refresh-interval = 1h
      opswatch.sources.quotas.refresh-interval = 1h
      opswatch.sources.incidents.refresh-interval = 1h
      """;

  private static TestDatabase db;
  private static Exporter exporter;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.create();
    db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
    // The seed's searches start with the calendar month: in its first hours there are none yet.
    db.execute("""
        INSERT INTO "TelemetryEvent" ("id", "eventId", "timestamp", "category", "action", "label", "value", "metadata", "sessionId")
        SELECT 'te-it-brave-' || k, 'it_brave_' || k, now() AT TIME ZONE 'UTC' - k * interval '1 minute', 'external_api',
               'web_search', 'brave_search', 1, '{"success":true}', 'system'
        FROM generate_series(1, 12) AS k
        """);
    // A small Brave quota, so that the JSON carries quota alerts too; rolling, so that the 12 searches
    // above fill it at any time of the month.
    ExporterConfig config = TestConfigs.forDatabase(db, ONE_REFRESH
        + "opswatch.admin.token = \"" + TOKEN + "\"\n"
        + "opswatch.quotas.providers.brave_search.quotas.queries_per_month { limit = 10, window = 24h }\n");
    exporter = Exporter.start(config);
    Await.until("every database source's first refresh", Duration.ofSeconds(60), () ->
        exporter.store().payload(exporter.sources().costs()).isPresent()
            && exporter.sources().quotas().stream().allMatch(q -> exporter.store().payload(q).isPresent())
            && exporter.store().payload(exporter.sources().incidents()).isPresent());
  }

  @AfterAll
  static void stop() {
    if (exporter != null) {
      exporter.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void withoutATokenItIs401() {
    for (String path : new String[] {"/api/cost-tracking", "/api/incidents/recent"}) {
      HttpResponse<String> response = Http.get(exporter.port(), path);
      assertEquals(401, response.statusCode(), path);
      assertEquals("Bearer realm=\"opswatch\"", response.headers().firstValue("WWW-Authenticate").orElse(""));
      assertFalse(response.body().contains("services"));
    }
  }

  @Test
  void withAWrongTokenItIs401() {
    int port = exporter.port();
    assertEquals(401, Http.get(port, "/api/cost-tracking", "Authorization", "Bearer " + TOKEN + "x").statusCode());
    assertEquals(401, Http.get(port, "/api/cost-tracking", "Authorization", "Bearer " + TOKEN.substring(1)).statusCode());
    assertEquals(401, Http.get(port, "/api/cost-tracking", "Authorization", "Basic " + TOKEN).statusCode());
    assertEquals(401, Http.get(port, "/api/incidents/recent", "Authorization", "Bearer").statusCode());
  }

  @Test
  void withTheRightTokenItIs200() throws Exception {
    HttpResponse<String> costs = Http.get(exporter.port(), "/api/cost-tracking", "Authorization", "Bearer " + TOKEN);
    assertEquals(200, costs.statusCode());
    assertEquals("application/json", costs.headers().firstValue("Content-Type").orElse(""));
    assertEquals("no-store", costs.headers().firstValue("Cache-Control").orElse(""));
    JsonNode body = JSON.readTree(costs.body());
    for (String field : new String[] {"services", "totalMonthly", "totalBudget", "alerts", "quotas", "timestamp"}) {
      assertTrue(body.has(field), "CostDashboardData has " + field);
    }
    assertEquals(200, Http.get(exporter.port(), "/api/incidents/recent", "Authorization", "bearer " + TOKEN).statusCode(),
        "the scheme is case-insensitive");
  }

  @Test
  void theJsonAndTheMetricsGiveTheSameNumbers() throws Exception {
    Exposition metrics = Exposition.scrape(exporter.port());
    JsonNode data = JSON.readTree(Http.get(exporter.port(), "/api/cost-tracking", "Authorization", "Bearer " + TOKEN).body());

    assertEquals(4, data.get("services").size());
    for (JsonNode service : data.get("services")) {
      String provider = service.get("provider").asText();
      double mtd = metrics.value("opswatch_cost_month_to_date_eur", "provider", provider);
      double forecast = metrics.value("opswatch_cost_forecast_eur", "provider", provider);
      assertEquals(round2(mtd), service.get("currentSpend").asDouble(), provider);
      assertEquals(round2(forecast), service.get("estimatedMonthlyCost").asDouble(), provider);
      Optional<Double> budget = metrics.find("opswatch_budget_eur", "provider", provider);
      if (budget.isPresent()) {
        assertEquals(round2(budget.get()), service.get("budgetLimit").asDouble(), provider);
        assertEquals(round2(metrics.value("opswatch_budget_forecast_ratio", "provider", provider) * 100),
            service.get("budgetUsagePercent").asDouble(), provider);
        Level spend = level(metrics.state("opswatch_budget_status", "provider", provider, "basis", "spend").orElseThrow());
        Level byForecast = level(metrics.state("opswatch_budget_status", "provider", provider, "basis", "forecast").orElseThrow());
        assertEquals((spend.compareTo(byForecast) >= 0 ? spend : byForecast).label(), service.get("status").asText(), provider);
      } else {
        // A fixed fee without a budget is shown as fixed: no limit, no percent, no alarm.
        assertEquals("fixed", service.get("kind").asText(), provider);
        assertTrue(service.get("budgetLimit").isNull(), provider);
        assertTrue(service.get("budgetUsagePercent").isNull(), provider);
        assertEquals("fixed", service.get("status").asText());
      }
      assertEquals(round2(metrics.value("opswatch_cost_today_eur", "provider", provider)), service.get("todaySpend").asDouble(), provider);
      // Absent in the source's first refresh (see BillingRolloverIT): then null in the JSON.
      assertEquals(metrics.find("opswatch_cost_previous_period_eur", "provider", provider).map(AdminApiIT::round2).orElse(null),
          service.get("previousPeriodSpend").isNull() ? null : service.get("previousPeriodSpend").asDouble(), provider);
      for (JsonNode model : service.get("models")) {
        assertEquals(round2(metrics.value("opswatch_llm_cost_month_to_date_eur", "provider", provider, "model", model.get("model").asText())),
            model.get("cost").asDouble(), provider + "/" + model.get("model").asText());
      }
      assertEquals(metrics.series("opswatch_llm_cost_month_to_date_eur").stream().filter(k -> k.contains("provider=\"" + provider + "\"")).count(),
          service.get("models").size(), "every model of " + provider);
      boolean alarming = Set.of("warning", "critical", "exceeded").contains(service.get("status").asText());
      assertEquals(alarming ? 1 : 0,
          count(data.get("alerts"), service.get("service").asText(), "budget"), "one budget alert per service warning or worse");
    }
    assertEquals(round2(metrics.value("opswatch_cost_total_forecast_eur")), data.get("totalMonthly").asDouble());
    assertEquals(round2(metrics.value("opswatch_cost_total_forecast_eur")), data.get("forecastTotal").asDouble());
    assertEquals(round2(metrics.value("opswatch_cost_total_month_to_date_eur")), data.get("monthToDateTotal").asDouble());
    assertEquals(round2(metrics.value("opswatch_cost_total_today_eur")), data.get("todayTotal").asDouble());
    assertEquals(metrics.find("opswatch_cost_total_previous_period_eur").map(AdminApiIT::round2).orElse(null),
        data.get("previousPeriodTotal").isNull() ? null : data.get("previousPeriodTotal").asDouble());
    assertEquals(metrics.value("opswatch_budget_total_eur"), data.get("totalBudget").asDouble());
    assertEquals(metrics.value("opswatch_billing_period_start_timestamp_seconds"),
        Instant.parse(data.get("billingPeriod").get("start").asText()).getEpochSecond());
    assertEquals(metrics.value("opswatch_billing_period_end_timestamp_seconds"),
        Instant.parse(data.get("billingPeriod").get("end").asText()).getEpochSecond());
    assertEquals(1.0, metrics.value("opswatch_billing_info", "time_zone", data.get("timeZone").asText(), "currency", data.get("currency").asText()));
    assertEquals("EUR", data.get("currency").asText());

    assertEquals(metrics.series("opswatch_quota_usage").size(), data.get("quotas").size(), "every quota of both sources");
    Set<String> critical = new HashSet<>();
    for (JsonNode quota : data.get("quotas")) {
      String[] labels = {"provider", quota.get("provider").asText(), "quota", quota.get("quota").asText()};
      assertEquals(metrics.value("opswatch_quota_usage", labels), quota.get("currentValue").asDouble(), 1e-9);
      assertEquals(metrics.value("opswatch_quota_limit", labels), quota.get("limit").asDouble());
      assertEquals(Math.round(metrics.value("opswatch_quota_usage_ratio", labels) * 10000) / 100.0, quota.get("usagePercent").asDouble());
      assertEquals(metrics.state("opswatch_quota_status", labels).orElseThrow(), quota.get("status").asText());
      if (quota.get("status").asText().equals("critical") || quota.get("status").asText().equals("exceeded")) {
        critical.add(quota.get("metric").asText());
      }
    }
    assertTrue(critical.contains("Queries/month"), "the small Brave quota is over its limit");
    for (String metric : critical) {
      assertTrue(count(data.get("alerts"), null, metric + ": ") == 1, "one critical alert for " + metric);
    }
    assertTrue(Instant.parse(data.get("timestamp").asText()).isBefore(Instant.now().plusSeconds(1)));
  }

  @Test
  void recentIncidentsNewestFirstWithoutFreeText() throws Exception {
    HttpResponse<String> response = Http.get(exporter.port(), "/api/incidents/recent", "Authorization", "Bearer " + TOKEN);
    assertFalse(response.body().contains("snippet"), "the demo rows' snippets never leave the database");
    assertFalse(response.body().contains("personal"));
    JsonNode incidents = JSON.readTree(response.body()).get("incidents");
    assertTrue(incidents.size() > 0 && incidents.size() <= 20, "at most 20, got " + incidents.size());
    Instant previous = Instant.MAX;
    boolean crisis = false;
    for (JsonNode incident : incidents) {
      Instant at = Instant.parse(incident.get("timestamp").asText());
      assertFalse(at.isAfter(previous), "newest first");
      assertTrue(at.isAfter(Instant.now().minus(Duration.ofHours(24))));
      previous = at;
      assertTrue(incident.get("severity").asText().matches("S[0-3]"));
      crisis |= incident.get("id").asText().equals("se-crisis-demo") && incident.get("severity").asText().equals("S3");
    }
    assertTrue(crisis, "the demo's critical escalation three hours ago is listed as S3");
  }

  @Test
  void withoutAConfiguredTokenItIs404() throws Exception {
    ExporterConfig config = TestConfigs.forDatabase(db, ONE_REFRESH + "opswatch.admin.token = \"\"\n");
    try (Exporter plain = Exporter.start(config)) {
      assertEquals(404, Http.get(plain.port(), "/api/cost-tracking", "Authorization", "Bearer " + TOKEN).statusCode());
      assertEquals(404, Http.get(plain.port(), "/api/incidents/recent").statusCode());
      assertFalse(Http.get(plain.port(), "/").body().contains("/api/"), "the landing page does not offer them either");
    }
  }

  @Test
  void withoutASnapshotItIs503() throws Exception {
    ExporterConfig config = TestConfigs.forDatabase(db, ONE_REFRESH
        + "opswatch.admin.token = \"" + TOKEN + "\"\n"
        + "opswatch.database.url = \"postgresql://nobody@127.0.0.1:1/none\"\n"
        + "opswatch.database.connect-timeout = 1s\n");
    try (Exporter down = Exporter.start(config)) {
      HttpResponse<String> costs = Http.get(down.port(), "/api/cost-tracking", "Authorization", "Bearer " + TOKEN);
      assertEquals(503, costs.statusCode());
      assertTrue(JSON.readTree(costs.body()).get("error").asText().contains("costs"));
      assertEquals(503, Http.get(down.port(), "/api/incidents/recent", "Authorization", "Bearer " + TOKEN).statusCode());
      assertEquals(401, Http.get(down.port(), "/api/cost-tracking").statusCode(), "the token is checked first");
    }
  }

  private static long count(JsonNode alerts, String service, String messagePart) {
    long n = 0;
    for (JsonNode alert : alerts) {
      boolean serviceMatches = service == null || alert.get("service").asText().equals(service);
      if (serviceMatches && alert.get("message").asText().contains(messagePart)) {
        n++;
      }
    }
    return n;
  }

  private static Level level(String label) {
    return Level.valueOf(label.toUpperCase(java.util.Locale.ROOT));
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
