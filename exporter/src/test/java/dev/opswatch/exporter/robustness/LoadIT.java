package dev.opswatch.exporter.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.ScrapeTimer;
import dev.opswatch.exporter.testing.SlowClients;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
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
import org.junit.jupiter.api.io.TempDir;

/** Many scrapers at once, and clients that misbehave: none may hang the others. */
class LoadIT {
  private static TestDatabase db;
  private static Exporter exporter;

  @BeforeAll
  static void start() throws IOException {
    db = TestDatabase.create();
    db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
    // 64 scrapers from 127.0.0.1 need more than the default 32 connections per address.
    exporter = Exporter.start(TestConfigs.forDatabase(db, "opswatch.sources.costs.refresh-interval = 2s\n"
        + "opswatch.http.max-connections-per-address = 100\n"));
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

  /**
   * Issue #12: one scrape in 244,377 failed here under CPU contention, cause unrecorded. Each failure
   * is now recorded (exception, status, elapsed) and printed. The cause was the JDK server's
   * {@code sun.net.httpserver.maxReqTime=5}: its timer runs from the moment a request is readable,
   * so a request that had arrived whole but waited for a worker (a full pool or a starved CPU) was
   * closed unanswered ("closing: no request" in the JDK's log, "Connection reset" at the client).
   * The server now reads each connection on its own thread and counts only time spent waiting for
   * the client's bytes; ExporterHttpServerTest reproduces the old failure's shape and shows the fix.
   */
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

  /**
   * Issue #19 item 4. 400 slow-loris clients, 16 from each of 25 other addresses (so that the
   * per-address cap admits them all), trickle headers and reconnect whenever the server closes
   * them. A scraper from 127.0.0.1 must see no delay: each connection has a thread of its own, so
   * no scrape ever waits for a slow client's bytes. The bound is the design's, not spare CPU's.
   */
  @Test
  void fourHundredSlowClientsDoNotDelayAScrape() throws Exception {
    assertSlowClientsDoNotDelayScrapes(exporter.port(), SlowClients.loopbackAddresses(2, 25));
  }

  /** The same with basic auth on: headers are read before authentication, and that costs no one else anything. */
  @Test
  void fourHundredSlowClientsDoNotDelayAScrapeWithBasicAuthOn(@TempDir Path dir) throws Exception {
    Path password = dir.resolve("password");
    Files.writeString(password, "prom-password");
    try (Exporter guarded = Exporter.start(TestConfigs.forDatabase(db, "opswatch.sources.costs.refresh-interval = 2s\n"
        + "opswatch.http.basic-auth { username = prom, password-file = \"" + password + "\" }\n"))) {
      String auth = "Basic " + Base64.getEncoder().encodeToString("prom:prom-password".getBytes(StandardCharsets.UTF_8));
      Await.until("ready", Duration.ofSeconds(30), () -> Http.get(guarded.port(), "/-/ready", "Authorization", auth).statusCode() == 200);
      assertSlowClientsDoNotDelayScrapes(guarded.port(), SlowClients.loopbackAddresses(30, 25), "Authorization", auth);
    }
  }

  /** 400 slow clients from one address get that address's share (32 by default) and no more; scrapes go on. */
  @Test
  void fourHundredSlowClientsFromOneAddressGetOnlyItsShare() throws Exception {
    try (Exporter capped = Exporter.start(TestConfigs.forDatabase(db, "opswatch.sources.costs.refresh-interval = 2s\n"))) {
      Await.until("ready", Duration.ofSeconds(30), () -> Http.get(capped.port(), "/-/ready").statusCode() == 200);
      try (SlowClients slow = new SlowClients(capped.port(), 400, SlowClients.loopbackAddresses(60, 1), 250, 400)) {
        long start = System.nanoTime();
        Await.until("refusals", Duration.ofSeconds(10), () -> slow.closedByServer() >= 300);
        long refusedMillis = (System.nanoTime() - start) / 1_000_000;
        // Refused at accept: the 3 s header deadline cannot have closed any of them this early.
        assertTrue(refusedMillis < 3000, "300 refusals took " + refusedMillis + " ms");
        List<Long> latencies = ScrapeTimer.latencies(capped.port(), 100);
        System.out.printf("LoadIT 400 slow clients from one address: 300 refused within %d ms; scrape p99 %d ms, max %d ms%n",
            refusedMillis, ScrapeTimer.p99(latencies), ScrapeTimer.max(latencies));
        assertTrue(ScrapeTimer.p99(latencies) < 100, "p99 " + ScrapeTimer.p99(latencies) + " ms");
      }
    }
  }

  /** The head's deadline runs from the accept: trickling bytes does not extend it. */
  @Test
  void aRequestHeadMustArriveWithinTheDeadlineFromAccept() throws Exception {
    try (Socket trickler = connectFrom(SlowClients.loopbackAddresses(90, 1).get(0));
        Socket silent = connectFrom(SlowClients.loopbackAddresses(91, 1).get(0))) {
      long start = System.nanoTime();
      trickler.getOutputStream().write("GET /metrics HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
      boolean open = true;
      while (open && System.nanoTime() - start < Duration.ofSeconds(10).toNanos()) {
        Thread.sleep(100);
        try {
          trickler.getOutputStream().write('a');
        } catch (IOException closed) {
          open = false;
        }
      }
      long trickledMillis = (System.nanoTime() - start) / 1_000_000;
      silent.setSoTimeout(10_000);
      int read = silent.getInputStream().read();
      long silentMillis = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("LoadIT header deadline: trickler closed after %d ms, silent client after %d ms%n", trickledMillis, silentMillis);
      assertEquals(-1, read, "the silent client's connection is closed without an answer");
      // The default request-header-timeout is 3 s; a write notices the close one write later (100 ms).
      assertTrue(trickledMillis >= 2900 && trickledMillis < 5000, "trickler closed after " + trickledMillis + " ms");
      assertTrue(silentMillis >= 2900 && silentMillis < 5000, "silent client closed after " + silentMillis + " ms");
    }
  }

  private static Socket connectFrom(InetAddress source) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(source, 0));
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), exporter.port()), 5000);
    return s;
  }

  private static void assertSlowClientsDoNotDelayScrapes(int port, List<InetAddress> slowSources, String... headers) throws Exception {
    List<Long> quiet = ScrapeTimer.latencies(port, 100, headers);
    try (SlowClients slow = new SlowClients(port, 400, slowSources, 100)) {
      Await.until("400 slow clients connected", Duration.ofSeconds(20), () -> slow.connected() == 400);
      List<Long> loaded = ScrapeTimer.latencies(port, 300, headers);
      System.out.printf("LoadIT 400 slow clients (%d connects, %d closed by the server): scrape p50 %d ms, p99 %d ms, max %d ms;"
              + " without them p99 %d ms%n",
          slow.connects(), slow.closedByServer(), loaded.get(loaded.size() / 2), ScrapeTimer.p99(loaded), ScrapeTimer.max(loaded), ScrapeTimer.p99(quiet));
      assertTrue(slow.closedByServer() >= 400, "the header deadline closed the slow clients: " + slow.closedByServer());
      assertTrue(ScrapeTimer.p99(loaded) < 100, "p99 of a scrape beside 400 slow clients: " + ScrapeTimer.p99(loaded) + " ms");
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
