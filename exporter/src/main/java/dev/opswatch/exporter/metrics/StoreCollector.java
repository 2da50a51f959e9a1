package dev.opswatch.exporter.metrics;

import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the store's current snapshot. client_java calls collectors without a try/catch, so an
 * exception here would turn the whole /metrics into a 500: this never throws, and falls back
 * to the build info alone.
 */
public final class StoreCollector implements MultiCollector {
  private static final Logger log = LoggerFactory.getLogger(StoreCollector.class);

  private final SnapshotStore store;
  private final String version;

  public StoreCollector(SnapshotStore store, String version) {
    this.store = store;
    this.version = version;
  }

  @Override
  public MetricSnapshots collect() {
    try {
      MetricFamilies all = store.currentMetrics();
      return MetricFamilies.merge(java.util.List.of(all, buildInfo())).toSnapshots();
    } catch (RuntimeException e) {
      log.error("collect failed, serving build info only: {}", e.toString());
      return buildInfo().toSnapshots();
    }
  }

  private MetricFamilies buildInfo() {
    return new MetricFamilies().info("opswatch_build", "opswatch exporter build; always 1.", "version", version);
  }
}
