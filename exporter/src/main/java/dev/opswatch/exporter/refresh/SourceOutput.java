package dev.opswatch.exporter.refresh;

import dev.opswatch.exporter.metrics.Samples;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Map;

/**
 * One successful refresh: its finished client_java snapshots, the typed payload for the admin API
 * (built from the same data, so both always agree), and the rows skipped as invalid, by reason.
 * The snapshots are rendered when the output is made, on the refresh thread: a rendering fault
 * fails that refresh alone, and its source keeps its last good output.
 */
public record SourceOutput<P>(MetricSnapshots metrics, P payload, Map<String, Long> rejectedRows) {

  public SourceOutput {
    rejectedRows = Map.copyOf(rejectedRows);
  }

  public static <P> SourceOutput<P> of(Samples samples, P payload, Map<String, Long> rejectedRows) {
    return new SourceOutput<>(samples.toSnapshots(), payload, rejectedRows);
  }

  public static <P> SourceOutput<P> of(Samples samples, P payload) {
    return of(samples, payload, Map.of());
  }
}
