package dev.opswatch.exporter.http;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * HTTP workers that grow only when all are busy, up to {@code max}, and queue beyond that.
 *
 * <p>A plain {@link ThreadPoolExecutor} with a bounded queue either starts a thread per request
 * until it has {@code core} threads, idle ones or not (so 8 scrapers grew the pool to all 32
 * workers, ~7 MiB of resident memory), or starts extra threads only once the queue is full. A
 * slow client holds a worker for up to {@code sun.net.httpserver.maxReqTime}, so the pool must
 * still grow under slow-loris clients: the queue refuses a request while there is no idle
 * worker and the pool may grow, which makes the executor start one.
 */
final class WorkerPool {
  private WorkerPool() {}

  static ThreadPoolExecutor create(int max, int queueCapacity) {
    GrowFirstQueue queue = new GrowFirstQueue(queueCapacity);
    ThreadPoolExecutor pool = new ThreadPoolExecutor(1, max, 30, TimeUnit.SECONDS, queue, r -> {
      Thread t = new Thread(r, "http");
      t.setDaemon(true);
      return t;
    }, (task, executor) -> {
      // Refused by the queue because the pool may grow, but it grew to max meanwhile: queue it.
      if (executor.isShutdown() || !queue.enqueue(task)) {
        throw new RejectedExecutionException("HTTP queue full");
      }
    });
    pool.allowCoreThreadTimeOut(true);
    queue.pool = pool;
    return pool;
  }

  private static final class GrowFirstQueue extends LinkedBlockingQueue<Runnable> {
    private volatile ThreadPoolExecutor pool;

    GrowFirstQueue(int capacity) {
      super(capacity);
    }

    @Override
    public boolean offer(Runnable task) {
      ThreadPoolExecutor p = pool;
      if (p != null && p.getActiveCount() >= p.getPoolSize() && p.getPoolSize() < p.getMaximumPoolSize()) {
        return false;
      }
      return super.offer(task);
    }

    boolean enqueue(Runnable task) {
      return super.offer(task);
    }
  }
}
