package dev.opswatch.exporter.incident;

import dev.opswatch.exporter.metrics.MetricFamilies;

/** Renders an {@link IncidentReport} as the incident families of docs/metrics.md. */
public final class IncidentMetrics {
  private IncidentMetrics() {}

  public static MetricFamilies render(IncidentReport r) {
    MetricFamilies m = new MetricFamilies();
    r.byType().forEach((severity, types) -> types.forEach((type, n) -> m.gauge(
        "opswatch_incidents", "SafetyEvent rows in the lookback window, per severity and type.", n,
        "severity", severity.name(), "type", type)));
    r.unresolved().forEach((severity, n) -> m.gauge(
        "opswatch_incidents_unresolved", "SafetyEvent rows without resolvedAt in the unresolved window.", n,
        "severity", severity.name()));
    r.newest().forEach((severity, at) -> m.gauge(
        "opswatch_incident_last_timestamp_seconds", "Time of the newest SafetyEvent of the severity.",
        at.toEpochMilli() / 1000.0, "severity", severity.name()));
    r.telemetry().forEach((category, n) -> m.gauge(
        "opswatch_telemetry_incidents", "TelemetryEvent rows of the incident categories in the lookback window.", n,
        "category", category.category(), "severity", category.severity().name()));
    m.gauge("opswatch_incidents_lookback_seconds", "The lookback window of the incident counts.", r.lookback().toSeconds());
    return m;
  }
}
