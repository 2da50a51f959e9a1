package dev.opswatch.exporter.metrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A mutable collection of metric families, filled by one source's refresh and frozen into
 * client_java snapshots at scrape time. Several sources may add points to the same family
 * (e.g. the fast and slow quota sources); {@link #merge} joins them.
 *
 * <p>Names are given as exposed, without client_java's implicit suffixes: a counter named
 * {@code x} is exposed as {@code x_total}, an info named {@code x} as {@code x_info}.
 */
public final class MetricFamilies {

  enum Type { GAUGE, COUNTER, STATESET, INFO }

  record Point(Labels labels, double value, List<String> states, String currentState) {}

  record Family(String name, String help, Type type, List<Point> points) {}

  private final Map<String, Family> families = new LinkedHashMap<>();

  public MetricFamilies gauge(String name, String help, double value, String... labelPairs) {
    family(name, help, Type.GAUGE).points().add(new Point(Labels.of(labelPairs), value, null, null));
    return this;
  }

  public MetricFamilies counter(String name, String help, double value, String... labelPairs) {
    family(name, help, Type.COUNTER).points().add(new Point(Labels.of(labelPairs), value, null, null));
    return this;
  }

  /** A StateSet: one of {@code states} is {@code current} (or none, when current is null). */
  public MetricFamilies stateSet(String name, String help, List<String> states, String current, String... labelPairs) {
    family(name, help, Type.STATESET).points().add(new Point(Labels.of(labelPairs), 1, List.copyOf(states), current));
    return this;
  }

  public MetricFamilies info(String name, String help, String... labelPairs) {
    family(name, help, Type.INFO).points().add(new Point(Labels.of(labelPairs), 1, null, null));
    return this;
  }

  public boolean isEmpty() {
    return families.isEmpty();
  }

  private Family family(String name, String help, Type type) {
    Family f = families.computeIfAbsent(name, n -> new Family(n, help, type, new ArrayList<>()));
    if (f.type() != type) {
      throw new IllegalArgumentException(name + " is already a " + f.type());
    }
    return f;
  }

  /** Joins several collections; points of same-named families are concatenated. */
  public static MetricFamilies merge(Collection<MetricFamilies> parts) {
    MetricFamilies merged = new MetricFamilies();
    for (MetricFamilies part : parts) {
      for (Family f : part.families.values()) {
        Family target = merged.family(f.name(), f.help(), f.type());
        target.points().addAll(f.points());
      }
    }
    return merged;
  }

  /** Names as they appear in the exposition, for the metric contract test. */
  public List<String> exposedNames() {
    List<String> names = new ArrayList<>();
    for (Family f : families.values()) {
      names.add(switch (f.type()) {
        case COUNTER -> f.name() + "_total";
        case INFO -> f.name() + "_info";
        default -> f.name();
      });
    }
    return names;
  }

  public MetricSnapshots toSnapshots() {
    MetricSnapshots.Builder result = MetricSnapshots.builder();
    for (Family f : families.values()) {
      result.metricSnapshot(toSnapshot(f));
    }
    return result.build();
  }

  private static MetricSnapshot toSnapshot(Family f) {
    switch (f.type()) {
      case GAUGE -> {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(f.name()).help(f.help());
        for (Point p : f.points()) {
          b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build());
        }
        return b.build();
      }
      case COUNTER -> {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(f.name()).help(f.help());
        for (Point p : f.points()) {
          b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(p.labels()).value(p.value()).build());
        }
        return b.build();
      }
      case STATESET -> {
        StateSetSnapshot.Builder b = StateSetSnapshot.builder().name(f.name()).help(f.help());
        for (Point p : f.points()) {
          StateSetSnapshot.StateSetDataPointSnapshot.Builder dp =
              StateSetSnapshot.StateSetDataPointSnapshot.builder().labels(p.labels());
          for (String state : p.states()) {
            dp.state(state, state.equals(p.currentState()));
          }
          b.dataPoint(dp.build());
        }
        return b.build();
      }
      case INFO -> {
        InfoSnapshot.Builder b = InfoSnapshot.builder().name(f.name()).help(f.help());
        for (Point p : f.points()) {
          b.dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder().labels(p.labels()).build());
        }
        return b.build();
      }
      default -> throw new IllegalStateException(f.type().toString());
    }
  }
}
