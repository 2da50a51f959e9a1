package dev.opswatch.exporter.refresh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** How long a source waits after failures in a row: quick at first, at most 15 s, never above its interval. */
class RefreshLoopTest {

  @Test
  void retriesAfterOneSecondThenBacksOffToFifteen() {
    List<Long> seconds = IntStream.rangeClosed(1, 7)
        .mapToObj(n -> RefreshLoop.retryAfter(n, Duration.ofSeconds(60)).toSeconds()).toList();
    assertEquals(List.of(1L, 2L, 4L, 8L, 15L, 15L, 15L), seconds);
    assertEquals(Duration.ofSeconds(15), RefreshLoop.retryAfter(Integer.MAX_VALUE, Duration.ofSeconds(60)), "no overflow");
  }

  @Test
  void neverWaitsLongerThanTheSourcesInterval() {
    assertEquals(Duration.ofSeconds(2), RefreshLoop.retryAfter(3, Duration.ofSeconds(2)));
    assertEquals(Duration.ofSeconds(5), RefreshLoop.retryAfter(10, Duration.ofSeconds(5)));
  }
}
