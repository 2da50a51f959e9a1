package dev.opswatch.exporter.metrics;

import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the sources' finished snapshots, built on their refresh threads: a scrape only joins
 * them. The joined result is kept while the parts are the same objects, so that an unchanged store
 * yields the very same snapshots (which {@code MetricsEndpoint} caches the encoded body of).
 * client_java calls collectors without a try/catch; this never throws.
 */
public final class StoreCollector implements MultiCollector {
  private static final Logger log = LoggerFactory.getLogger(StoreCollector.class);
  private static final MetricFamily BUILD = MetricFamily.info("opswatch_build", "opswatch exporter build; always 1.", "version");

  /** For the metric catalog. */
  public static final List<MetricFamily> FAMILIES = List.of(BUILD);

  private final SnapshotStore store;
  private final MetricSnapshots buildInfo;
  private Joined last = new Joined(List.of(), new MetricSnapshots(List.of()));

  private record Joined(List<MetricSnapshots> parts, MetricSnapshots result) {}

  public StoreCollector(SnapshotStore store, String version) {
    this.store = store;
    this.buildInfo = new Samples().info(BUILD, version).toSnapshots();
  }

  @Override
  public synchronized MetricSnapshots collect() {
    List<MetricSnapshots> parts = new ArrayList<>(store.readySnapshots());
    parts.add(buildInfo);
    if (Identical.elements(parts, last.parts())) {
      return last.result();
    }
    MetricSnapshots joined;
    try {
      joined = SnapshotMerge.merge(parts, problem -> log.error("cannot join the sources' family {}", problem));
    } catch (RuntimeException e) {
      log.error("cannot join the sources' snapshots, serving build info only: {}", e.toString());
      joined = buildInfo;
    }
    last = new Joined(parts, joined);
    return joined;
  }
}
