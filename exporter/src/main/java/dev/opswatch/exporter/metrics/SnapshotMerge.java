package dev.opswatch.exporter.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Joins the finished snapshots of several sources into one list with unique names. A family that
 * only one part has is passed on as the same object; a family several parts share (the two quota
 * sources' {@code opswatch_quota_*}, every source's {@code opswatch_source_*}) gets its data points
 * concatenated. Never throws: if the parts of one family cannot be joined (two types, or the same
 * label set twice), the first part's family is served alone and {@code problem} is told.
 */
public final class SnapshotMerge {
  private SnapshotMerge() {}

  public static MetricSnapshots merge(List<MetricSnapshots> parts, Consumer<String> problem) {
    Map<String, List<MetricSnapshot>> byName = new LinkedHashMap<>();
    for (MetricSnapshots part : parts) {
      for (MetricSnapshot s : part) {
        byName.computeIfAbsent(s.getMetadata().getPrometheusName(), n -> new ArrayList<>()).add(s);
      }
    }
    List<MetricSnapshot> merged = new ArrayList<>(byName.size());
    byName.forEach((name, same) -> {
      if (same.size() == 1) {
        merged.add(same.get(0));
        return;
      }
      try {
        merged.add(concat(same));
      } catch (IllegalArgumentException e) {
        problem.accept(name + ": " + e.getMessage());
        merged.add(same.get(0));
      }
    });
    return new MetricSnapshots(merged);
  }

  private static MetricSnapshot concat(List<MetricSnapshot> same) {
    MetricSnapshot first = same.get(0);
    for (MetricSnapshot s : same) {
      if (s.getClass() != first.getClass()) {
        throw new IllegalArgumentException("served as both " + first.getClass().getSimpleName() + " and " + s.getClass().getSimpleName());
      }
    }
    if (first instanceof GaugeSnapshot) {
      return new GaugeSnapshot(first.getMetadata(), points(same, GaugeSnapshot.GaugeDataPointSnapshot.class));
    }
    if (first instanceof CounterSnapshot) {
      return new CounterSnapshot(first.getMetadata(), points(same, CounterSnapshot.CounterDataPointSnapshot.class));
    }
    if (first instanceof StateSetSnapshot) {
      return new StateSetSnapshot(first.getMetadata(), points(same, StateSetSnapshot.StateSetDataPointSnapshot.class));
    }
    if (first instanceof InfoSnapshot) {
      return new InfoSnapshot(first.getMetadata(), points(same, InfoSnapshot.InfoDataPointSnapshot.class));
    }
    throw new IllegalArgumentException("cannot join a " + first.getClass().getSimpleName());
  }

  private static <T extends DataPointSnapshot> List<T> points(List<MetricSnapshot> same, Class<T> type) {
    List<T> points = new ArrayList<>();
    for (MetricSnapshot s : same) {
      s.getDataPoints().forEach(p -> points.add(type.cast(p)));
    }
    return points;
  }
}
