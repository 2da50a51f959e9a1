package dev.opswatch.exporter.refresh;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The latest finished output of every source. Refresh threads write it; scrapes and the admin API
 * only read it, so no request ever waits on the database, and no source's fault touches another's
 * snapshots.
 */
public final class SnapshotStore {
  private final ConcurrentMap<String, SourceState> states = new ConcurrentHashMap<>();
  private final Duration stalenessLimit;
  private final Clock clock;

  public SnapshotStore(Duration stalenessLimit, Clock clock) {
    this.stalenessLimit = stalenessLimit;
    this.clock = clock;
  }

  public void register(Source<?> source) {
    SourceState previous = states.putIfAbsent(
        source.name(), SourceState.initial(source.name(), source.refreshInterval(), source.gatesReadiness()));
    if (previous != null) {
      throw new IllegalArgumentException("two sources are named " + source.name());
    }
  }

  public <P> void recordSuccess(Source<P> source, SourceOutput<P> output, Duration took) {
    Instant at = clock.instant();
    states.computeIfPresent(source.name(), (name, state) -> state.succeeded(output, at, took));
  }

  public void recordFailure(Source<?> source, Duration took) {
    states.computeIfPresent(source.name(), (name, state) -> state.failed(took));
  }

  /**
   * The source's last good payload, unless the source never succeeded or its data went stale.
   * Typed by the source itself: only {@link #recordSuccess} with this source writes its state.
   */
  @SuppressWarnings("unchecked")
  public <P> Optional<P> payload(Source<P> source) {
    SourceState state = states.get(source.name());
    if (state == null) {
      return Optional.empty();
    }
    return state.fresh(clock.instant(), stalenessLimit).map(output -> (P) output.payload());
  }

  /** True once every source that gates readiness has succeeded at least once. */
  public boolean ready() {
    return states.values().stream().filter(SourceState::gatesReadiness).allMatch(s -> s.lastSuccess().isPresent());
  }

  public boolean isUp(String source) {
    SourceState state = states.get(source);
    return state != null && state.up();
  }

  /**
   * The ready snapshots to serve, by source name: each source's fresh data, then its own metrics.
   * Nothing is rendered here; unchanged sources give the same objects as last time.
   */
  public List<MetricSnapshots> readySnapshots() {
    Instant now = clock.instant();
    List<MetricSnapshots> parts = new ArrayList<>();
    for (Map.Entry<String, SourceState> e : new TreeMap<>(states).entrySet()) {
      e.getValue().fresh(now, stalenessLimit).ifPresent(output -> parts.add(output.metrics()));
      parts.add(e.getValue().self());
    }
    return parts;
  }
}
