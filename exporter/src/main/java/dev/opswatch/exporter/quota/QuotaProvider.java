package dev.opswatch.exporter.quota;

/**
 * An external API whose calls the app records as TelemetryEvent rows: {@code id} is the
 * {@code provider} label, {@code label} the rows' label column, {@code displayName} the admin API's
 * {@code service}.
 */
public record QuotaProvider(String id, String displayName, String label) {}
