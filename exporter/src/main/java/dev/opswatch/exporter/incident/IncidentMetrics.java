package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import java.util.List;

/** The incident families of docs/metrics.md, and how an {@link IncidentReport} fills them. */
public final class IncidentMetrics {
  static final MetricFamily INCIDENTS = MetricFamily.gauge("opswatch_incidents",
      "SafetyEvent rows in the lookback window, per severity and type.", "severity", "type");
  static final MetricFamily UNRESOLVED = MetricFamily.gauge("opswatch_incidents_unresolved",
      "SafetyEvent rows without resolvedAt in the unresolved window.", "severity");
  static final MetricFamily LAST = MetricFamily.gauge("opswatch_incident_last_timestamp_seconds",
      "Time of the newest SafetyEvent of the severity.", "severity");
  static final MetricFamily TELEMETRY = MetricFamily.gauge("opswatch_telemetry_incidents",
      "TelemetryEvent rows of the incident categories in the lookback window.", "category", "severity");
  static final MetricFamily LOOKBACK = MetricFamily.gauge("opswatch_incidents_lookback_seconds",
      "The lookback window of the incident counts.");

  public static final List<MetricFamily> FAMILIES = List.of(INCIDENTS, UNRESOLVED, LAST, TELEMETRY, LOOKBACK);

  private IncidentMetrics() {}

  public static Samples render(IncidentReport r) {
    Samples m = new Samples();
    r.byType().forEach((severity, types) -> types.forEach((type, n) -> m.add(INCIDENTS, n, severity.name(), type)));
    r.unresolved().forEach((severity, n) -> m.add(UNRESOLVED, n, severity.name()));
    r.newest().forEach((severity, at) -> m.add(LAST, at.toEpochMilli() / 1000.0, severity.name()));
    r.telemetry().forEach((category, n) -> m.add(TELEMETRY, n, category.category(), category.severity().name()));
    m.add(LOOKBACK, r.lookback().toSeconds());
    return m;
  }
}
