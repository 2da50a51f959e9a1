package dev.opswatch.exporter.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many scrapers at once, and clients that misbehave: none may hang the others. */
class LoadIT {
  private static TestDatabase db;
  private static Exporter exporter;

  @BeforeAll
  static void start() throws IOException {
    db = TestDatabase.create();
    db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
    exporter = Exporter.start(TestConfigs.forDatabase(db, "opswatch.sources.costs.refresh-interval = 2s\n"));
    Await.until("ready", Duration.ofSeconds(30), () -> Http.get(exporter.port(), "/-/ready").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    exporter.close();
    db.close();
  }

  /** One failed scrape: what the client saw, and when. */
  record Failure(String cause, int status, long elapsedMillis, long atMillis) {
    @Override
    public String toString() {
      return cause + (status > 0 ? " (HTTP " + status + ")" : "") + " after " + elapsedMillis + " ms, " + atMillis + " ms into the run";
    }
  }

  @Test
  void sixtyFourConcurrentScrapersForThirtySecondsGetNoErrors() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exporter.port() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build();
    AtomicLong ok = new AtomicLong();
    Queue<Failure> failures = new ConcurrentLinkedQueue<>();
    long start = System.nanoTime();
    long deadline = start + Duration.ofSeconds(30).toNanos();
    ExecutorService scrapers = Executors.newFixedThreadPool(64);
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      futures.add(scrapers.submit(() -> {
        while (System.nanoTime() < deadline) {
          long sent = System.nanoTime();
          try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200 && r.body().contains("opswatch_source_up")) {
              ok.incrementAndGet();
            } else {
              failures.add(failure("unexpected answer", r.statusCode(), sent, start));
            }
          } catch (IOException e) {
            failures.add(failure(e.getClass().getName() + ": " + e.getMessage(), 0, sent, start));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }));
    }
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    scrapers.shutdown();
    System.out.printf("LoadIT 64 scrapers: %d ok, %d failed%n", ok.get(), failures.size());
    failures.forEach(f -> System.out.println("LoadIT failed scrape: " + f));
    assertEquals(List.of(), List.copyOf(failures), "failed scrapes out of " + (ok.get() + failures.size()));
    assertTrue(ok.get() > 64, "only " + ok.get() + " scrapes in 30 s");
  }

  private static Failure failure(String cause, int status, long sentNanos, long startNanos) {
    long now = System.nanoTime();
    return new Failure(cause, status, (now - sentNanos) / 1_000_000, (sentNanos - startNanos) / 1_000_000);
  }

  @Test
  void malformedRequestsGetA4xxOrAClosedConnection() throws IOException {
    assertStatus4xx(raw("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    assertStatus4xx(raw("BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertStatus4xx(raw("GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertStatus4xx(raw("GET /metrics/../admin HTTP/1.1\r\nHost: x\r\n\r\n"));
    String huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(1_000_000) + "\r\n\r\n";
    String answer = raw(huge);
    assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), () -> "huge header got: " + firstLine(answer));
    String manyHeaders = "GET /metrics HTTP/1.1\r\nHost: x\r\n" + java.util.stream.IntStream.range(0, 500).mapToObj(i -> "X-H" + i + ": 1\r\n").collect(java.util.stream.Collectors.joining()) + "\r\n";
    String many = raw(manyHeaders);
    assertTrue(many.isEmpty() || many.startsWith("HTTP/1.1 4"), () -> "500 headers got: " + firstLine(many));
    assertStatus4xx(raw("garbage\r\n\r\n"));
    assertEquals(200, Http.get(exporter.port(), "/metrics").statusCode(), "still serving after all that");
  }

  @Test
  void slowLorisClientsDoNotHangOthers() throws Exception {
    List<Socket> loris = new ArrayList<>();
    try {
      for (int i = 0; i < 16; i++) {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), exporter.port());
        s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        loris.add(s);
      }
      // Every slow client holds a worker now; a normal client must still be served.
      for (int i = 0; i < 5; i++) {
        assertEquals(200, Http.get(exporter.port(), "/metrics").statusCode());
      }
    } finally {
      for (Socket s : loris) {
        s.close();
      }
    }
  }

  private static String raw(String request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), exporter.port())) {
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException closedWhileSending) {
        return "";
      }
      // The status line is enough; the connection may stay open (keep-alive).
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      int b;
      while ((b = in.read()) >= 0 && b != '\n') {
        line.append((char) b);
      }
      return line.toString();
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server neither answered nor closed within 15 s", e);
    } catch (java.net.SocketException e) {
      return "";
    }
  }

  private static void assertStatus4xx(String response) {
    assertTrue(response.isEmpty() || response.startsWith("HTTP/1.1 4"), () -> "expected 4xx or close, got: " + firstLine(response));
  }

  private static String firstLine(String s) {
    int end = s.indexOf('\r');
    return end < 0 ? s : s.substring(0, end);
  }
}
