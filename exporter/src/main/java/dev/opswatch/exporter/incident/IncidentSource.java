package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code incidents} source: SafetyEvent and TelemetryEvent incidents, and the recent list. */
public final class IncidentSource implements Source {
  public static final String NAME = "incidents";

  private final Database database;
  private final Duration interval;
  private final IncidentConfig config;
  private final SafetyEventQuery safetyEvents;
  private final TelemetryIncidentQuery telemetry;
  /** Only the admin API shows the recent list: without it the query is not run. */
  private final Optional<RecentIncidentQuery> recent;

  public IncidentSource(ExporterConfig exporter, IncidentConfig config, Database database) {
    this.database = database;
    this.interval = exporter.sources().refreshInterval(NAME, Duration.ofSeconds(60));
    this.config = config;
    this.safetyEvents = new SafetyEventQuery(config, database.clientTimeoutSeconds());
    this.telemetry = new TelemetryIncidentQuery(config.telemetryCategories(), database.clientTimeoutSeconds());
    this.recent = exporter.adminApiEnabled()
        ? Optional.of(new RecentIncidentQuery(config, database.clientTimeoutSeconds()))
        : Optional.empty();
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
    RejectedRows rejected = new RejectedRows();
    IncidentReport report = database.readOnly(connection -> {
      SafetyEventQuery.Result counts = safetyEvents.run(connection, now, rejected);
      Map<TelemetryCategory, Long> byCategory = telemetry.run(connection, now.minus(config.lookback()), now);
      List<RecentIncident> latest = recent.isPresent() ? recent.get().run(connection, now) : List.of();
      return new IncidentReport(now, config.lookback(), counts.byType(), counts.unresolved(), counts.newest(), byCategory, latest);
    });
    return new SourceOutput(IncidentMetrics.render(report), report, rejected.asMap());
  }
}
