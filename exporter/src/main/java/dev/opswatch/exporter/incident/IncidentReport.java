package dev.opswatch.exporter.incident;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One refresh of the incidents source, shared by /metrics and /api/incidents/recent. Counts are
 * zero-filled over every severity and type label, so that a quiet day shows 0s, not gaps.
 */
public record IncidentReport(
    Instant computedAt,
    Duration lookback,
    Map<Severity, Map<String, Long>> byType,
    Map<Severity, Long> unresolved,
    Map<Severity, Instant> newest,
    Map<TelemetryCategory, Long> telemetry,
    List<RecentIncident> recent) {}
