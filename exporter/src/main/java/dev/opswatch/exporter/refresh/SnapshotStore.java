package dev.opswatch.exporter.refresh;

import dev.opswatch.exporter.metrics.MetricFamilies;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The latest output of every source. Refresh threads write it; scrapes and the admin API only
 * read it, so no request ever waits on the database.
 */
public final class SnapshotStore {
  private final ConcurrentMap<String, SourceState> states = new ConcurrentHashMap<>();
  /** Bumped on every change of a source's state, so that readers can tell when to re-render. */
  private final AtomicLong generation = new AtomicLong();
  private final Duration stalenessLimit;
  private final Clock clock;

  public SnapshotStore(Duration stalenessLimit, Clock clock) {
    this.stalenessLimit = stalenessLimit;
    this.clock = clock;
  }

  public void register(Source source) {
    states.put(source.name(), SourceState.initial(source.refreshInterval(), source.gatesReadiness()));
    generation.incrementAndGet();
  }

  public void recordSuccess(String source, SourceOutput output, Duration took) {
    Instant at = clock.instant();
    states.computeIfPresent(source, (name, state) -> state.succeeded(output, at, took));
    generation.incrementAndGet();
  }

  public void recordFailure(String source, Duration took) {
    states.computeIfPresent(source, (name, state) -> state.failed(took));
    generation.incrementAndGet();
  }

  /**
   * Equal marks mean {@link #currentMetrics()} returns the same metrics: besides refreshes, only a
   * source's data going stale changes them. Lets /metrics encode once per change, not per scrape.
   */
  public ContentMark contentMark() {
    long before = generation.get();
    Instant now = clock.instant();
    Set<String> fresh = new TreeSet<>();
    states.forEach((name, state) -> state.fresh(now, stalenessLimit).ifPresent(output -> fresh.add(name)));
    return new ContentMark(before, fresh);
  }

  /** See {@link #contentMark()}. */
  public record ContentMark(long generation, Set<String> freshSources) {}

  /** The source's last good payload, unless the source never succeeded or its data went stale. */
  public <T> Optional<T> payload(String source, Class<T> type) {
    SourceState state = states.get(source);
    if (state == null) {
      return Optional.empty();
    }
    return state.fresh(clock.instant(), stalenessLimit).map(SourceOutput::payload).filter(type::isInstance).map(type::cast);
  }

  /** True once every source that gates readiness has succeeded at least once. */
  public boolean ready() {
    return states.values().stream().filter(SourceState::gatesReadiness).allMatch(s -> s.lastSuccess().isPresent());
  }

  public boolean isUp(String source) {
    SourceState state = states.get(source);
    return state != null && state.up();
  }

  /** Fresh data of every source plus the exporter's own metrics about each source. */
  public MetricFamilies currentMetrics() {
    Instant now = clock.instant();
    List<MetricFamilies> parts = new ArrayList<>();
    Map<String, SourceState> sorted = new TreeMap<>(states);
    for (SourceState state : sorted.values()) {
      state.fresh(now, stalenessLimit).ifPresent(output -> parts.add(output.metrics()));
    }
    parts.add(selfMetrics(sorted));
    return MetricFamilies.merge(parts);
  }

  private static MetricFamilies selfMetrics(Map<String, SourceState> states) {
    MetricFamilies m = new MetricFamilies();
    states.forEach((name, s) -> {
      m.gauge("opswatch_source_up", "1 when the source's last refresh succeeded, else 0.", s.up() ? 1 : 0, "source", name);
      s.lastSuccess().ifPresent(t -> m.gauge(
          "opswatch_source_last_success_timestamp_seconds", "When the source last refreshed successfully.",
          t.toEpochMilli() / 1000.0, "source", name));
      m.gauge("opswatch_source_refresh_duration_seconds", "Duration of the source's last refresh.", s.lastDurationSeconds(), "source", name);
      m.gauge("opswatch_source_refresh_interval_seconds", "The source's configured refresh interval.", s.interval().toMillis() / 1000.0, "source", name);
      m.counter("opswatch_source_errors", "Failed refreshes since start.", s.errors(), "source", name);
      s.rejectedRows().forEach((reason, n) -> m.counter(
          "opswatch_rows_rejected", "Database rows skipped as invalid, added up over refreshes since start.", n,
          "source", name, "reason", reason));
    });
    return m;
  }
}
