package dev.opswatch.exporter.incident;

import java.time.Instant;

/**
 * One incident for the admin API, without any free text. {@code source} is {@code safety_event}
 * (type = the SafetyEvent type, label = its category) or {@code telemetry_event} (type = the
 * TelemetryEvent category, action and label as recorded).
 */
public record RecentIncident(
    String id, Instant timestamp, String source, String type, String action, Severity severity, String label) {}
