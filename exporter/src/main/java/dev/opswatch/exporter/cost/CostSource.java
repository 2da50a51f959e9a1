package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.closed.ClosedDaysCache;
import dev.opswatch.exporter.closed.ClosedHours;
import dev.opswatch.exporter.closed.ClosedHoursCache;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.config.ProviderConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.DatabaseSource;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.metrics.Samples;
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
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The {@code costs} source: spend per provider in the billing period, today and in the previous
 * period, forecasts and budget levels. The month's past days are closed: they are read from the
 * database once per {@code closed-days-refresh} (and at once when a new day begins). The whole
 * previous period is closed too: it is read once per {@code previous-period-refresh} (24h) and at
 * once when a new month begins, so its final figures survive the rollover and a restart; but not
 * in the source's first refresh, which readiness waits for (at 10M rows it was 40 % of that
 * refresh, see bench/RESULTS.md), and its figures are absent until the next. Today's closed hours
 * are read once each, {@code late-row-grace} after they end, and again with the whole of today
 * every {@code closed-days-refresh} ({@link ClosedHoursCache}); a refresh reads only the rows from
 * the first open hour to the end of the period.
 */
public final class CostSource extends DatabaseSource<CostReport> {
  public static final String NAME = "costs";

  private final ZoneId zone;
  private final BudgetEvaluator evaluator;
  private final Map<String, List<CostQueryRunner>> runnersByProvider = new LinkedHashMap<>();
  /** Per provider and query ("provider/query"), the usage of the month's past days. */
  private final ClosedDaysCache<Map<String, List<ModelUsage>>> pastDays;
  /** Per provider and query, the usage of today's closed hours. */
  private final ClosedHoursCache<Map<String, List<ModelUsage>>> todayHours;
  private final Duration lateRowGrace;
  /** Per provider and query, the usage of the whole previous period. */
  private final ClosedDaysCache<Map<String, List<ModelUsage>>> previousPeriod;
  /** Whether a refresh has succeeded: the previous period is read from the refresh after that one. */
  private volatile boolean refreshedOnce;

  public CostSource(ExporterConfig config, Database database) {
    super(NAME, config.sources().refreshInterval(NAME, Duration.ofSeconds(60)), database);
    this.zone = config.billing().timeZone();
    Duration closedDaysRefresh = config.sources().closedDaysRefresh(NAME);
    this.lateRowGrace = config.sources().lateRowGrace(NAME);
    this.pastDays = new ClosedDaysCache<>(closedDaysRefresh, lateRowGrace, Map.of());
    this.previousPeriod = new ClosedDaysCache<>(config.sources().previousPeriodRefresh(NAME), lateRowGrace, Map.of());
    this.todayHours = new ClosedHoursCache<>(closedDaysRefresh, Map.of(), CostSource::plus);
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

  @Override
  protected CostReport read(Connection connection, Instant now, RejectedRows rejected) throws SQLException {
    BillingPeriod period = BillingPeriod.containing(now, zone);
    BillingPeriod previous = period.previous();
    Instant today = period.startOfDay(now);
    Instant open = ClosedHours.end(today, now, lateRowGrace);
    Map<String, List<ModelUsage>> past =
        pastDays.get(period.start(), today, now, (from, to) -> readAll(connection, from, to, rejected));
    Map<String, List<ModelUsage>> closedHours =
        todayHours.get(today, open, now, (from, to) -> readAll(connection, from, to, rejected));
    Optional<Map<String, List<ModelUsage>>> before = refreshedOnce
        ? Optional.of(previousPeriod.get(previous.start(), previous.end(), now, (from, to) -> readAll(connection, from, to, rejected)))
        : Optional.empty();
    Map<String, MeteredSpend> metered = new HashMap<>();
    for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
      Map<String, Double> byQuery = new LinkedHashMap<>();
      Map<String, ModelUsage> byModel = new LinkedHashMap<>();
      double todayEur = 0;
      double previousEur = 0;
      for (CostQueryRunner runner : e.getValue()) {
        String key = key(e.getKey(), runner);
        List<ModelUsage> todays = new ArrayList<>(closedHours.getOrDefault(key, List.of()));
        todays.addAll(runner.run(connection, open, period.end(), rejected));
        List<ModelUsage> models = new ArrayList<>(past.getOrDefault(key, List.of()));
        models.addAll(todays);
        byQuery.put(runner.name(), sum(models));
        models.forEach(m -> byModel.merge(m.model(), m, ModelUsage::plus));
        todayEur += sum(todays);
        previousEur += sum(before.map(b -> b.getOrDefault(key, List.of())).orElse(List.of()));
      }
      metered.put(e.getKey(), new MeteredSpend(byQuery, List.copyOf(byModel.values()), todayEur,
          before.isPresent() ? OptionalDouble.of(previousEur) : OptionalDouble.empty()));
    }
    CostReport report = evaluator.evaluate(period, now, metered);
    refreshedOnce = true;
    return report;
  }

  @Override
  protected Samples render(CostReport report) {
    return CostMetrics.render(report);
  }

  /** Every metered provider's queries over [from, to), by "provider/query". */
  private Map<String, List<ModelUsage>> readAll(Connection connection, Instant from, Instant to, RejectedRows rejected)
      throws SQLException {
    Map<String, List<ModelUsage>> usage = new HashMap<>();
    for (Map.Entry<String, List<CostQueryRunner>> e : runnersByProvider.entrySet()) {
      for (CostQueryRunner runner : e.getValue()) {
        usage.put(key(e.getKey(), runner), runner.run(connection, from, to, rejected));
      }
    }
    return Map.copyOf(usage);
  }

  /** The usage of two adjacent spans, per key and model. */
  static Map<String, List<ModelUsage>> plus(Map<String, List<ModelUsage>> a, Map<String, List<ModelUsage>> b) {
    Map<String, List<ModelUsage>> sum = new HashMap<>();
    for (Map<String, List<ModelUsage>> part : List.of(a, b)) {
      part.forEach((key, models) -> {
        Map<String, ModelUsage> byModel = new LinkedHashMap<>();
        sum.getOrDefault(key, List.of()).forEach(m -> byModel.merge(m.model(), m, ModelUsage::plus));
        models.forEach(m -> byModel.merge(m.model(), m, ModelUsage::plus));
        sum.put(key, List.copyOf(byModel.values()));
      });
    }
    return Map.copyOf(sum);
  }

  private static String key(String provider, CostQueryRunner runner) {
    return provider + "/" + runner.name();
  }

  private static double sum(List<ModelUsage> models) {
    return models.stream().mapToDouble(ModelUsage::costEur).sum();
  }
}
