package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.config.ExporterConfig;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Quota usage from the app's TelemetryEvent rows, one query per window. Two instances run:
 * {@code quotas_fast} for rolling windows up to five minutes (a one-minute window read once a
 * minute would mostly show stale peaks) and {@code quotas} for the rest plus the error window.
 * Each window reads only its own quotas' provider labels; a calendar month reads its past days
 * once per {@code closed-days-refresh} and today's hours once each (see {@link ClosedDaysUsage}), a
 * rolling window longer than an hour its whole hours once each (see {@link RollingHoursUsage}).
 */
public final class QuotaSource extends DatabaseSource<QuotaReport> {
  public static final String FAST = "quotas_fast";
  public static final String SLOW = "quotas";
  /** Rolling windows longer than this keep their whole hours; shorter ones are read whole. */
  static final Duration HOURLY_FROM = Duration.ofHours(2);

  private final ZoneId zone;
  private final List<QuotaDefinition> quotas;
  private final Set<QuotaWindow> windows;
  private final Map<QuotaWindow, WindowUsageQuery> usageQueries = new HashMap<>();
  private final Optional<ClosedDaysUsage> monthUsage;
  private final Map<QuotaWindow, RollingHoursUsage> hourlyUsage = new HashMap<>();
  private final Optional<ExternalCallsQuery> callsQuery;
  private final QuotaWindow errorWindow;

  QuotaSource(String name, Duration interval, Database database, ZoneId zone, QuotaConfig config,
      List<QuotaDefinition> quotas, boolean withCalls, Duration closedDaysRefresh, Duration lateRowGrace) {
    super(name, interval, database);
    this.zone = zone;
    this.quotas = List.copyOf(quotas);
    this.windows = new LinkedHashSet<>(quotas.stream().map(QuotaDefinition::window).toList());
    for (QuotaWindow window : windows) {
      List<String> labels = quotas.stream()
          .filter(q -> q.window().equals(window)).map(q -> q.provider().label()).distinct().toList();
      usageQueries.put(window, new WindowUsageQuery(config.category(), labels, database.clientTimeoutSeconds()));
    }
    this.monthUsage = Optional.ofNullable(usageQueries.get(QuotaWindow.month()))
        .map(query -> new ClosedDaysUsage(query, zone, closedDaysRefresh, lateRowGrace));
    usageQueries.forEach((window, query) -> {
      if (!window.calendarMonth() && window.rollingLength().compareTo(HOURLY_FROM) > 0) {
        hourlyUsage.put(window, new RollingHoursUsage(query, closedDaysRefresh, lateRowGrace));
      }
    });
    this.callsQuery = withCalls && !config.providers().isEmpty()
        ? Optional.of(new ExternalCallsQuery(config.category(), config.providers(), database.clientTimeoutSeconds()))
        : Optional.empty();
    this.errorWindow = QuotaWindow.rolling(config.errorWindow());
  }

  /** The sources the config needs: a source without quotas or calls to watch is left out. */
  public static List<QuotaSource> create(ExporterConfig config, Database database) {
    QuotaConfig quotas = config.quotas();
    ZoneId zone = config.billing().timeZone();
    List<QuotaDefinition> fast = quotas.quotas().stream().filter(q -> q.window().fast()).toList();
    List<QuotaDefinition> slow = quotas.quotas().stream().filter(q -> !q.window().fast()).toList();
    // Only the slow source has calendar-month windows.
    Duration closedDaysRefresh = config.sources().closedDaysRefresh(SLOW);
    Duration lateRowGrace = config.sources().lateRowGrace(SLOW);
    List<QuotaSource> sources = new ArrayList<>();
    if (!fast.isEmpty()) {
      sources.add(new QuotaSource(FAST, config.sources().refreshInterval(FAST, Duration.ofSeconds(15)),
          database, zone, quotas, fast, false, closedDaysRefresh, lateRowGrace));
    }
    if (!slow.isEmpty() || !quotas.providers().isEmpty()) {
      sources.add(new QuotaSource(SLOW, config.sources().refreshInterval(SLOW, Duration.ofSeconds(60)),
          database, zone, quotas, slow, true, closedDaysRefresh, lateRowGrace));
    }
    return sources;
  }

  @Override
  protected QuotaReport read(Connection connection, Instant now, RejectedRows rejected) throws SQLException {
    Map<QuotaWindow, QuotaWindow.Bounds> boundsByWindow = new HashMap<>();
    windows.forEach(w -> boundsByWindow.put(w, w.at(now, zone)));
    Map<QuotaWindow, RejectedCounting> counting = RejectedCounting.perWindow(quotas, boundsByWindow, rejected);
    Map<QuotaWindow, WindowUsage> usageByWindow = new HashMap<>();
    for (QuotaWindow window : windows) {
      usageByWindow.put(window, usage(connection, window, boundsByWindow.get(window), counting.get(window)));
    }
    List<QuotaUsage> usages = new ArrayList<>();
    for (QuotaDefinition q : quotas) {
      usages.add(QuotaUsage.of(q, usageByWindow.get(q.window()).usageOf(q), boundsByWindow.get(q.window())));
    }
    List<CallStats> calls = callsQuery.isPresent()
        ? callsQuery.get().run(connection, errorWindow.at(now, zone), rejected)
        : List.of();
    return new QuotaReport(now, List.copyOf(usages), List.copyOf(calls));
  }

  @Override
  protected Samples render(QuotaReport report) {
    return QuotaMetrics.render(report);
  }

  private WindowUsage usage(Connection connection, QuotaWindow window, QuotaWindow.Bounds bounds, RejectedCounting counting)
      throws SQLException {
    if (window.calendarMonth()) {
      return monthUsage.orElseThrow().read(connection, bounds, counting);
    }
    RollingHoursUsage hourly = hourlyUsage.get(window);
    return hourly != null
        ? hourly.read(connection, bounds, counting)
        : usageQueries.get(window).run(connection, bounds.start(), bounds.end(), counting);
  }
}
