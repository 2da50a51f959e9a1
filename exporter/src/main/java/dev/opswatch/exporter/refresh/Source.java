package dev.opswatch.exporter.refresh;

import java.time.Duration;
import java.time.Instant;

/**
 * Something the exporter refreshes in the background: a group of database queries or a probe.
 * A refresh may throw; the loop records the failure and the last good output keeps being served.
 *
 * @param <P> the typed payload a refresh hands to the admin API beside its metrics
 */
public interface Source<P> {
  /** The {@code source} label value. */
  String name();

  Duration refreshInterval();

  /** Whether readiness waits for this source's first success (database sources do; probes do not). */
  default boolean gatesReadiness() {
    return true;
  }

  /** One refresh, including the rendering of its snapshots, on the refresh thread. */
  SourceOutput<P> refresh(Instant now) throws Exception;
}
