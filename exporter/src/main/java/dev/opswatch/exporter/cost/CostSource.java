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
  /** Per provider and query ("provider/query"), the usage of the month's past days. */
  private final ClosedDaysCache<Map<String, List<ModelUsage>>> closedDays;

  public CostSource(ExporterConfig config, Database database) {
    this.database = database;
    this.zone = config.billing().timeZone();
    this.interval = config.sources().refreshInterval(NAME, Duration.ofSeconds(60));
    this.closedDays = new ClosedDaysCache<>(config.sources().closedDaysRefresh(NAME), Map.of());
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

  private Map<String, List<ModelUsage>> readPastDays(Connection connection, Instant periodStart, Instant today,
      RejectedRows rejected) throws SQLException {
    Map<String, List<ModelUsage>> usage = new HashMap<>();
    for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
      for (CostQueryRunner runner : e.getValue()) {
        usage.put(key(e.getKey(), runner), runner.run(connection, periodStart, today, rejected));
      }
    }
    return Map.copyOf(usage);
  }

  private static String key(String provider, CostQueryRunner runner) {
    return provider + "/" + runner.name();
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
          Map<String, List<ModelUsage>> past = closedDays.get(period, now,
              (start, end) -> readPastDays(connection, start, end, rejected));
          Map<String, MeteredSpend> result = new HashMap<>();
          for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
            Map<String, Double> byQuery = new LinkedHashMap<>();
            Map<String, ModelUsage> byModel = new LinkedHashMap<>();
            for (CostQueryRunner runner : e.getValue()) {
              List<ModelUsage> models = new ArrayList<>(past.getOrDefault(key(e.getKey(), runner), List.of()));
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
