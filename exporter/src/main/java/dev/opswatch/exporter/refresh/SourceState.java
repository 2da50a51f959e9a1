package dev.opswatch.exporter.refresh;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** What the store knows of one source; replaced whole on every refresh, never mutated. */
record SourceState(
    Duration interval,
    boolean gatesReadiness,
    Optional<SourceOutput> lastGood,
    Optional<Instant> lastSuccess,
    boolean up,
    double lastDurationSeconds,
    long errors,
    Map<String, Long> rejectedRows) {

  static SourceState initial(Duration interval, boolean gatesReadiness) {
    return new SourceState(interval, gatesReadiness, Optional.empty(), Optional.empty(), false, 0, 0, Map.of());
  }

  SourceState succeeded(SourceOutput output, Instant at, Duration took) {
    Map<String, Long> rejected = new HashMap<>(rejectedRows);
    output.rejectedRows().forEach((reason, n) -> rejected.merge(reason, n, Long::sum));
    return new SourceState(interval, gatesReadiness, Optional.of(output), Optional.of(at), true, seconds(took), errors, Map.copyOf(rejected));
  }

  SourceState failed(Duration took) {
    return new SourceState(interval, gatesReadiness, lastGood, lastSuccess, false, seconds(took), errors + 1, rejectedRows);
  }

  /** The last good output, unless it is older than {@code staleness}. */
  Optional<SourceOutput> fresh(Instant now, Duration staleness) {
    if (lastSuccess.isEmpty() || Duration.between(lastSuccess.get(), now).compareTo(staleness) > 0) {
      return Optional.empty();
    }
    return lastGood;
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }
}
