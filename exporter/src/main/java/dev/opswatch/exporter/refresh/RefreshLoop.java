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
 * one-minute quota windows. After a failure the source retries sooner: 1 s after the first, then
 * twice as long after each further one, at most 15 s (and never later than its interval), so that
 * a refresh that failed at start-up, or a database coming back, is noticed quickly.
 */
public final class RefreshLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RefreshLoop.class);
  private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(15);
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);

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
      executor.execute(() -> runAndReschedule(source, executor, 0));
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

  private void runAndReschedule(Source<?> source, ScheduledExecutorService executor, int failuresBefore) {
    boolean ok = refreshOnce(source);
    int failures = ok ? 0 : failuresBefore + 1;
    Duration next = ok ? source.refreshInterval() : retryAfter(failures, source.refreshInterval());
    long millis = jittered(next.toMillis());
    if (!executor.isShutdown()) {
      executor.schedule(() -> runAndReschedule(source, executor, failures), millis, TimeUnit.MILLISECONDS);
    }
  }

  /** The wait after the {@code failures}-th failure in a row: 1 s, 2 s, 4 s, 8 s, then 15 s; never above {@code interval}. */
  static Duration retryAfter(int failures, Duration interval) {
    Duration wait = RETRY_AFTER_FAILURE;
    if (failures < 5) {
      wait = FIRST_RETRY.multipliedBy(1L << (failures - 1));
    }
    wait = wait.compareTo(RETRY_AFTER_FAILURE) > 0 ? RETRY_AFTER_FAILURE : wait;
    return wait.compareTo(interval) > 0 ? interval : wait;
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
