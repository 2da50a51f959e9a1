package dev.opswatch.exporter.refresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import dev.opswatch.exporter.metrics.StoreCollector;
import dev.opswatch.exporter.testing.Exposition;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A source whose rendering fails costs only that source: it keeps serving its last good snapshots
 * and says so in its own opswatch_source_up and error counter, while every other source is intact.
 */
class SourceIsolationTest {
  private static final MetricFamily SPEND = MetricFamily.gauge("test_spend_eur", "Spend.", "provider");
  private static final MetricFamily QUOTA = MetricFamily.gauge("test_quota_usage", "Use.", "quota");

  /** A source that renders {@code value}, or a duplicate label set (which client_java rejects) when told to. */
  private static final class FakeSource implements Source<Integer> {
    final String name;
    final MetricFamily family;
    final AtomicInteger value = new AtomicInteger(1);
    final AtomicBoolean faulty = new AtomicBoolean();

    FakeSource(String name, MetricFamily family) {
      this.name = name;
      this.family = family;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Duration refreshInterval() {
      return Duration.ofMinutes(1);
    }

    @Override
    public SourceOutput<Integer> refresh(Instant now) {
      Samples samples = new Samples().add(family, value.get(), "a");
      if (faulty.get()) {
        samples.add(family, value.get(), "a");
      }
      return SourceOutput.of(samples, value.get());
    }
  }

  @Test
  void aRenderingFaultKeepsThatSourcesLastGoodSnapshotAndLeavesTheOthersIntact() {
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    FakeSource costs = new FakeSource("costs", SPEND);
    FakeSource quotas = new FakeSource("quotas", QUOTA);
    RefreshLoop loop = new RefreshLoop(store, 0);
    store.register(costs);
    store.register(quotas);
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, "test"));
    assertTrue(loop.refreshOnce(costs));
    assertTrue(loop.refreshOnce(quotas));

    costs.value.set(2);
    costs.faulty.set(true);
    quotas.value.set(7);
    assertFalse(loop.refreshOnce(costs), "the duplicate label set fails the rendering, on the refresh thread");
    assertTrue(loop.refreshOnce(quotas));

    Exposition scrape = Exposition.of(registry.scrape());
    assertEquals(1, scrape.value("test_spend_eur", "provider", "a"), "the faulty source serves its last good snapshot");
    assertEquals(0, scrape.value("opswatch_source_up", "source", "costs"));
    assertEquals(1, scrape.value("opswatch_source_errors_total", "source", "costs"));
    assertEquals(7, scrape.value("test_quota_usage", "quota", "a"), "the other source is intact and current");
    assertEquals(1, scrape.value("opswatch_source_up", "source", "quotas"));
    assertEquals(0, scrape.value("opswatch_source_errors_total", "source", "quotas"));
    assertTrue(scrape.hasFamily("opswatch_build_info"));
    assertEquals(1, store.payload(costs).orElseThrow(), "the admin API keeps the last good payload too");

    costs.faulty.set(false);
    assertTrue(loop.refreshOnce(costs));
    assertEquals(2, Exposition.of(registry.scrape()).value("test_spend_eur", "provider", "a"), "and recovers");
  }

  @Test
  void twoSourcesClashingInOneFamilyCostOnlyThatFamily() {
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    FakeSource fast = new FakeSource("quotas_fast", QUOTA);
    FakeSource slow = new FakeSource("quotas", QUOTA);
    FakeSource costs = new FakeSource("costs", SPEND);
    RefreshLoop loop = new RefreshLoop(store, 0);
    for (FakeSource s : new FakeSource[] {fast, slow, costs}) {
      store.register(s);
      assertTrue(loop.refreshOnce(s));
    }
    StoreCollector collector = new StoreCollector(store, "test");
    // Both quota sources claim quota="a": the family keeps one source's series; nothing else suffers.
    Exposition scrape = Exposition.of(collector.collect());
    assertEquals(1, scrape.series("test_quota_usage").size());
    assertEquals(1, scrape.value("test_spend_eur", "provider", "a"));
    assertEquals(3, scrape.series("opswatch_source_up").size());
  }

  @Test
  void anUnchangedStoreGivesTheSameSnapshotObjects() {
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    FakeSource costs = new FakeSource("costs", SPEND);
    store.register(costs);
    RefreshLoop loop = new RefreshLoop(store, 0);
    loop.refreshOnce(costs);
    StoreCollector collector = new StoreCollector(store, "test");
    MetricSnapshots first = collector.collect();
    assertSame(first, collector.collect(), "nothing to join again: the scrape path only hands out ready snapshots");
    loop.refreshOnce(costs);
    assertFalse(first == collector.collect(), "a refresh gives new snapshots");
  }
}
