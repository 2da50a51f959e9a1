package dev.opswatch.exporter.refresh;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes each source on its own daemon thread, so that a slow cost query never delays the
 * one-minute quota windows. After a failure the source retries sooner (at most every 15 s),
 * so that a database coming back is noticed quickly.
 */
public final class RefreshLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RefreshLoop.class);
  private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(15);

  private final SnapshotStore store;
  private final double jitter;
  private final List<ScheduledExecutorService> executors = new ArrayList<>();

  public RefreshLoop(SnapshotStore store, double jitter) {
    this.store = store;
    this.jitter = jitter;
  }

  public void start(List<? extends Source<?>> sources) {
    for (Source<?> source : sources) {
      store.register(source);
    }
    for (Source<?> source : sources) {
      ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "refresh-" + source.name());
        t.setDaemon(true);
        return t;
      });
      executor.setRemoveOnCancelPolicy(true);
      executors.add(executor);
      executor.execute(() -> runAndReschedule(source, executor));
    }
  }

  /** Runs one refresh now, on the caller's thread; used at start-up and by tests. */
  public <P> boolean refreshOnce(Source<P> source) {
    long started = System.nanoTime();
    try {
      SourceOutput<P> output = source.refresh(java.time.Instant.now());
      store.recordSuccess(source, output, Duration.ofNanos(System.nanoTime() - started));
      return true;
    } catch (Exception | LinkageError e) {
      store.recordFailure(source, Duration.ofNanos(System.nanoTime() - started));
      log.warn("source {} refresh failed: {}", source.name(), FailureCause.describe(e));
      return false;
    }
  }

  private void runAndReschedule(Source<?> source, ScheduledExecutorService executor) {
    boolean ok = refreshOnce(source);
    Duration next = source.refreshInterval();
    if (!ok && next.compareTo(RETRY_AFTER_FAILURE) > 0) {
      next = RETRY_AFTER_FAILURE;
    }
    long millis = jittered(next.toMillis());
    if (!executor.isShutdown()) {
      executor.schedule(() -> runAndReschedule(source, executor), millis, TimeUnit.MILLISECONDS);
    }
  }

  private long jittered(long millis) {
    if (jitter == 0) {
      return millis;
    }
    double factor = 1 + ThreadLocalRandom.current().nextDouble(-jitter, jitter);
    return Math.max(1, Math.round(millis * factor));
  }

  @Override
  public void close() {
    for (ScheduledExecutorService executor : executors) {
      executor.shutdownNow();
    }
    for (ScheduledExecutorService executor : executors) {
      try {
        executor.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
