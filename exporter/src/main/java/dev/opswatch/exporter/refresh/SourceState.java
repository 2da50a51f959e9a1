package dev.opswatch.exporter.refresh;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the store knows of one source; replaced whole on every refresh, never mutated. Its own
 * metrics ({@code self}) are rendered when it is made, on the refresh thread.
 */
record SourceState(
    String name,
    Duration interval,
    boolean gatesReadiness,
    Optional<SourceOutput<?>> lastGood,
    Optional<Instant> lastSuccess,
    boolean up,
    double lastDurationSeconds,
    long errors,
    Map<String, Long> rejectedRows,
    MetricSnapshots self) {

  static SourceState initial(String name, Duration interval, boolean gatesReadiness) {
    return rendered(name, interval, gatesReadiness, Optional.empty(), Optional.empty(), false, 0, 0, Map.of());
  }

  SourceState succeeded(SourceOutput<?> output, Instant at, Duration took) {
    Map<String, Long> rejected = new TreeMap<>(rejectedRows);
    output.rejectedRows().forEach((reason, n) -> rejected.merge(reason, n, Long::sum));
    return rendered(name, interval, gatesReadiness, Optional.of(output), Optional.of(at), true, seconds(took), errors, rejected);
  }

  SourceState failed(Duration took) {
    return rendered(name, interval, gatesReadiness, lastGood, lastSuccess, false, seconds(took), errors + 1, rejectedRows);
  }

  private static SourceState rendered(String name, Duration interval, boolean gates, Optional<SourceOutput<?>> lastGood,
      Optional<Instant> lastSuccess, boolean up, double seconds, long errors, Map<String, Long> rejected) {
    SourceState state = new SourceState(
        name, interval, gates, lastGood, lastSuccess, up, seconds, errors, Map.copyOf(rejected), new MetricSnapshots());
    return new SourceState(name, interval, gates, lastGood, lastSuccess, up, seconds, errors, state.rejectedRows(),
        SourceMetrics.render(name, state));
  }

  /** The last good output, unless it is older than {@code staleness}. */
  Optional<SourceOutput<?>> fresh(Instant now, Duration staleness) {
    if (lastSuccess.isEmpty() || Duration.between(lastSuccess.get(), now).compareTo(staleness) > 0) {
      return Optional.empty();
    }
    return lastGood;
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }
}
