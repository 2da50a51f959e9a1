package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.closed.RollingHours;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.DatabaseSource;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.metrics.Samples;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code incidents} source: SafetyEvent and TelemetryEvent incidents, and the recent list. */
public final class IncidentSource extends DatabaseSource<IncidentReport> {
  public static final String NAME = "incidents";

  private final IncidentConfig config;
  private final SafetyEventQuery safetyEvents;
  private final TelemetryIncidentQuery telemetry;
  /** The lookback's whole UTC hours, kept between refreshes (a refresh reads its two partial hours). */
  private final RollingHours<Map<TelemetryCategory, Long>> lookbackHours;
  /** Only the admin API shows the recent list: without it the query is not run. */
  private final Optional<RecentIncidentQuery> recent;

  public IncidentSource(ExporterConfig exporter, Database database) {
    super(NAME, exporter.sources().refreshInterval(NAME, Duration.ofSeconds(60)), database);
    IncidentConfig config = exporter.incidents();
    this.config = config;
    this.safetyEvents = new SafetyEventQuery(config, database.clientTimeoutSeconds());
    this.telemetry = new TelemetryIncidentQuery(config.telemetryCategories(), database.clientTimeoutSeconds());
    this.lookbackHours = new RollingHours<>(exporter.sources().closedDaysRefresh(NAME), exporter.sources().lateRowGrace(NAME),
        telemetry.none(), TelemetryIncidentQuery::plus);
    this.recent = exporter.adminApiEnabled()
        ? Optional.of(new RecentIncidentQuery(config, database.clientTimeoutSeconds()))
        : Optional.empty();
  }

  @Override
  protected IncidentReport read(Connection connection, Instant now, RejectedRows rejected) throws SQLException {
    SafetyEventQuery.Result counts = safetyEvents.run(connection, now, rejected);
    Map<TelemetryCategory, Long> byCategory = lookbackHours.read(now.minus(config.lookback()), now, telemetry.reader(connection));
    List<RecentIncident> latest = recent.isPresent() ? recent.get().run(connection, now) : List.of();
    return new IncidentReport(now, config.lookback(), counts.byType(), counts.unresolved(), counts.newest(), byCategory, latest);
  }

  @Override
  protected Samples render(IncidentReport report) {
    return IncidentMetrics.render(report);
  }
}
