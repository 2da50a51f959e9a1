package dev.opswatch.exporter.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The data points one refresh puts into declared {@link MetricFamily families}, turned into
 * finished client_java snapshots by {@link #toSnapshots()} on the refresh thread. Label values are
 * given in the order of the family's label names; a wrong count is a bug and throws at once.
 */
public final class Samples {
  private record Point(Labels labels, double value, String state) {}

  private final Map<MetricFamily, List<Point>> points = new LinkedHashMap<>();

  /** A gauge or counter value. */
  public Samples add(MetricFamily family, double value, String... labelValues) {
    require(family, family.type() == MetricFamily.Type.GAUGE || family.type() == MetricFamily.Type.COUNTER);
    return put(family, new Point(labels(family, labelValues), value, null));
  }

  /** A StateSet data point whose current state is {@code current} (none set when null). */
  public Samples state(MetricFamily family, String current, String... labelValues) {
    require(family, family.type() == MetricFamily.Type.STATESET);
    if (current != null && !family.states().contains(current)) {
      throw new IllegalArgumentException(family.name() + " has no state " + current);
    }
    return put(family, new Point(labels(family, labelValues), 1, current));
  }

  /** An info data point (value 1). */
  public Samples info(MetricFamily family, String... labelValues) {
    require(family, family.type() == MetricFamily.Type.INFO);
    return put(family, new Point(labels(family, labelValues), 1, null));
  }

  /**
   * The families as client_java snapshots. Throws IllegalArgumentException when client_java
   * rejects one (a duplicate label set, an invalid name): the refresh then fails as a whole and its
   * source keeps serving its last good snapshots.
   */
  public MetricSnapshots toSnapshots() {
    List<MetricSnapshot> snapshots = new ArrayList<>();
    points.forEach((family, list) -> snapshots.add(snapshot(family, list)));
    return new MetricSnapshots(snapshots);
  }

  private Samples put(MetricFamily family, Point point) {
    points.computeIfAbsent(family, f -> new ArrayList<>()).add(point);
    return this;
  }

  private static void require(MetricFamily family, boolean ok) {
    if (!ok) {
      throw new IllegalArgumentException(family.name() + " is a " + family.type().label());
    }
  }

  private static Labels labels(MetricFamily family, String[] values) {
    if (values.length != family.labelNames().size()) {
      throw new IllegalArgumentException(family.name() + " has labels " + family.labelNames() + ", got " + values.length + " values");
    }
    Labels.Builder labels = Labels.builder();
    for (int i = 0; i < values.length; i++) {
      labels.label(family.labelNames().get(i), values[i]);
    }
    return labels.build();
  }

  private static MetricSnapshot snapshot(MetricFamily family, List<Point> list) {
    MetricMetadata metadata = new MetricMetadata(family.name(), family.help());
    return switch (family.type()) {
      case GAUGE -> new GaugeSnapshot(metadata, list.stream()
          .map(p -> GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build()).toList());
      case COUNTER -> new CounterSnapshot(metadata, list.stream()
          .map(p -> CounterSnapshot.CounterDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build()).toList());
      case STATESET -> new StateSetSnapshot(metadata, list.stream().map(p -> {
        StateSetSnapshot.StateSetDataPointSnapshot.Builder dp = StateSetSnapshot.StateSetDataPointSnapshot.builder().labels(p.labels());
        family.states().forEach(state -> dp.state(state, state.equals(p.state())));
        return dp.build();
      }).toList());
      case INFO -> new InfoSnapshot(metadata, list.stream()
          .map(p -> InfoSnapshot.InfoDataPointSnapshot.builder().labels(p.labels()).build()).toList());
    };
  }
}
