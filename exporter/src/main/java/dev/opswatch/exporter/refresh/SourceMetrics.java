package dev.opswatch.exporter.refresh;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;

/** The exporter's own families about each source, rendered whenever the source's state changes. */
final class SourceMetrics {
  static final MetricFamily UP = MetricFamily.gauge(
      "opswatch_source_up", "1 when the source's last refresh succeeded, else 0.", "source");
  static final MetricFamily LAST_SUCCESS = MetricFamily.gauge(
      "opswatch_source_last_success_timestamp_seconds", "When the source last refreshed successfully.", "source");
  static final MetricFamily DURATION = MetricFamily.gauge(
      "opswatch_source_refresh_duration_seconds", "Duration of the source's last refresh.", "source");
  static final MetricFamily INTERVAL = MetricFamily.gauge(
      "opswatch_source_refresh_interval_seconds", "The source's configured refresh interval.", "source");
  static final MetricFamily ERRORS = MetricFamily.counter(
      "opswatch_source_errors", "Failed refreshes (including failed renderings) since start.", "source");
  static final MetricFamily ROWS_REJECTED = MetricFamily.counter(
      "opswatch_rows_rejected", "Database rows skipped as invalid, added up over refreshes since start.", "source", "reason");

  static final List<MetricFamily> FAMILIES = List.of(UP, LAST_SUCCESS, DURATION, INTERVAL, ERRORS, ROWS_REJECTED);

  private SourceMetrics() {}

  static MetricSnapshots render(String name, SourceState s) {
    Samples m = new Samples();
    m.add(UP, s.up() ? 1 : 0, name);
    s.lastSuccess().ifPresent(t -> m.add(LAST_SUCCESS, t.toEpochMilli() / 1000.0, name));
    m.add(DURATION, s.lastDurationSeconds(), name);
    m.add(INTERVAL, s.interval().toMillis() / 1000.0, name);
    m.add(ERRORS, s.errors(), name);
    s.rejectedRows().forEach((reason, n) -> m.add(ROWS_REJECTED, n, name, reason));
    return m.toSnapshots();
  }
}
