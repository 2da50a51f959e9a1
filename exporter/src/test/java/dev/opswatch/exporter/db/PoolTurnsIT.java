package dev.opswatch.exporter.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * More units of work than pooled connections, each holding its connection longer than the pool's
 * acquire timeout (as at start-up, when four sources' first refreshes share two connections): they
 * take turns, none fails for having waited, and never more than the pool's connections are in use.
 */
class PoolTurnsIT {

  @Test
  void workBeyondThePoolWaitsItsTurnInsteadOfTimingOut() throws Exception {
    try (TestDatabase db = TestDatabase.create(false)) {
      ExporterConfig config = TestConfigs.forDatabase(db, "opswatch.database.pool-size = 2\nopswatch.database.acquire-timeout = 500ms\n");
      AtomicInteger inUse = new AtomicInteger();
      AtomicInteger mostInUse = new AtomicInteger();
      ExecutorService threads = Executors.newFixedThreadPool(5);
      try (Database database = new Database(config.database())) {
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          int n = i;
          results.add(threads.submit(() -> database.readOnly(c -> {
            mostInUse.accumulateAndGet(inUse.incrementAndGet(), Math::max);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_sleep(0.8), " + n)) {
              rs.next();
              return rs.getInt(2);
            } finally {
              inUse.decrementAndGet();
            }
          })));
        }
        for (int i = 0; i < 5; i++) {
          assertEquals(i, results.get(i).get(), "unit of work " + i + " waited 0.8 s or more, longer than the acquire timeout");
        }
        assertTrue(mostInUse.get() <= 2, "at most the pool's two connections at once, was " + mostInUse.get());
        assertTrue(database.totalConnections() <= 2);
      } finally {
        threads.shutdownNow();
      }
    }
  }
}
