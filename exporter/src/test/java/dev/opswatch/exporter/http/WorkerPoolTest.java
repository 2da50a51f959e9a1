package dev.opswatch.exporter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
  private ThreadPoolExecutor pool;

  @AfterEach
  void stop() throws InterruptedException {
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
  }

  @Test
  void oneRequestAtATimeNeedsOneWorker() throws Exception {
    pool = WorkerPool.create(8, 16);
    for (int i = 0; i < 200; i++) {
      CountDownLatch done = new CountDownLatch(1);
      pool.execute(done::countDown);
      assertTrue(done.await(5, TimeUnit.SECONDS));
      awaitIdle();
    }
    assertEquals(1, pool.getLargestPoolSize());
  }

  @Test
  void growsWhileAllAreBusyThenQueuesThenRefuses() throws Exception {
    pool = WorkerPool.create(4, 2);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(4);
    AtomicInteger finished = new AtomicInteger();
    Runnable slow = () -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      finished.incrementAndGet();
    };
    for (int i = 0; i < 4; i++) {
      pool.execute(slow);
    }
    assertTrue(started.await(5, TimeUnit.SECONDS), "four busy requests get four workers");
    assertEquals(4, pool.getPoolSize());
    pool.execute(slow);
    pool.execute(slow);
    assertEquals(2, pool.getQueue().size(), "beyond the maximum, requests wait in the queue");
    assertThrows(RejectedExecutionException.class, () -> pool.execute(slow));
    release.countDown();
    pool.shutdown();
    assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
    assertEquals(6, finished.get(), "queued requests are served, none lost");
  }

  private void awaitIdle() throws InterruptedException {
    for (int i = 0; i < 500 && pool.getActiveCount() > 0; i++) {
      Thread.sleep(1);
    }
  }
}
