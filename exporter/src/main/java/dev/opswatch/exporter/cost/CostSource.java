package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.config.ProviderConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code costs} source: month-to-date spend per provider, forecasts and budget levels. */
public final class CostSource implements Source {
  public static final String NAME = "costs";

  private final Database database;
  private final ZoneId zone;
  private final Duration interval;
  private final BudgetEvaluator evaluator;
  private final Map<String, List<CostQueryRunner>> runnersByProvider = new LinkedHashMap<>();
  private final Duration closedDaysRefresh;
  private volatile ClosedDays closedDays;

  public CostSource(ExporterConfig config, Database database) {
    this.database = database;
    this.zone = config.billing().timeZone();
    this.interval = config.sources().refreshInterval(NAME, Duration.ofSeconds(60));
    this.closedDaysRefresh = config.sources().closedDaysRefresh(NAME);
    this.evaluator = new BudgetEvaluator(
        config.providers(), config.budget().totalEur(), config.budget().thresholds(),
        new Forecaster(config.billing().forecastMinElapsed()));
    for (ProviderConfig p : config.providers()) {
      if (p.kind() == ProviderConfig.Kind.METERED) {
        runnersByProvider.put(p.id(), p.costQueries().stream()
            .map(q -> new CostQueryRunner(config.costQueries().get(q), config.maxRowCostEur(), database.clientTimeoutSeconds()))
            .toList());
      }
    }
  }

  /**
   * The sums of the period's past days, re-read at most every {@code closed-days-refresh} and at
   * each new day: the app writes rows as they happen, so past days change only by correction.
   * Each refresh then scans today's rows alone, and its cost stays flat as history grows.
   */
  private ClosedDays closedDays(Connection connection, BillingPeriod period, Instant today, Instant now, RejectedRows rejected)
      throws SQLException {
    ClosedDays cached = closedDays;
    if (cached != null && cached.freshAt(today, now, closedDaysRefresh)) {
      return cached;
    }
    Map<String, List<ModelUsage>> usage = new HashMap<>();
    if (today.isAfter(period.start())) {
      for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
        for (CostQueryRunner runner : e.getValue()) {
          usage.put(e.getKey() + "/" + runner.name(), runner.run(connection, period.start(), today, rejected));
        }
      }
    }
    ClosedDays fresh = new ClosedDays(today, now, Map.copyOf(usage));
    closedDays = fresh;
    return fresh;
  }


  private record ClosedDays(Instant today, Instant readAt, Map<String, List<ModelUsage>> byProviderQuery) {
    /** Still today, and read less than {@code refresh} ago (a clock that went back re-reads). */
    boolean freshAt(Instant today, Instant now, Duration refresh) {
      return this.today.equals(today) && !now.isBefore(readAt) && now.isBefore(readAt.plus(refresh));
    }

    List<ModelUsage> usage(String provider, String query) {
      return byProviderQuery.getOrDefault(provider + "/" + query, List.of());
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Duration refreshInterval() {
    return interval;
  }

  @Override
  public SourceOutput refresh(Instant now) throws Exception {
    BillingPeriod period = BillingPeriod.containing(now, zone);
    Instant today = period.startOfDay(now);
    RejectedRows rejected = new RejectedRows();
    Map<String, MeteredSpend> metered = runnersByProvider.isEmpty()
        ? Map.of()
        : database.readOnly(connection -> {
          ClosedDays closed = closedDays(connection, period, today, now, rejected);
          Map<String, MeteredSpend> result = new HashMap<>();
          for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
            Map<String, Double> byQuery = new LinkedHashMap<>();
            Map<String, ModelUsage> byModel = new LinkedHashMap<>();
            for (CostQueryRunner runner : e.getValue()) {
              List<ModelUsage> models = new ArrayList<>(closed.usage(e.getKey(), runner.name()));
              models.addAll(runner.run(connection, today, period.end(), rejected));
              byQuery.put(runner.name(), models.stream().mapToDouble(ModelUsage::costEur).sum());
              models.forEach(m -> byModel.merge(m.model(), m, ModelUsage::plus));
            }
            result.put(e.getKey(), new MeteredSpend(byQuery, List.copyOf(byModel.values())));
          }
          return result;
        });
    CostReport report = evaluator.evaluate(period, now, metered);
    return new SourceOutput(CostMetrics.render(report), report, rejected.asMap());
  }
}
