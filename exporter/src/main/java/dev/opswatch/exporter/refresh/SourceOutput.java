package dev.opswatch.exporter.refresh;

import dev.opswatch.exporter.metrics.MetricFamilies;
import java.util.Map;

/**
 * One successful refresh: the metric families to serve, a typed payload for the admin API
 * (built from the same data, so both always agree), and the rows skipped as invalid, by reason.
 */
public record SourceOutput(MetricFamilies metrics, Object payload, Map<String, Long> rejectedRows) {

  public static SourceOutput of(MetricFamilies metrics, Object payload) {
    return new SourceOutput(metrics, payload, Map.of());
  }
}
