package dev.opswatch.exporter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpHandler;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.metrics.StoreCollector;
import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP server on its own: deadlines, turns, headers. */
class ExporterHttpServerTest {
  private ExporterHttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private ExporterHttpServer start(int threads, ExporterConfig.ClientLimits limits, Map<String, HttpHandler> routes) throws IOException {
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, "test"));
    server = new ExporterHttpServer(
        new ExporterConfig.Http("127.0.0.1", 0, threads, limits, Optional.empty(), Optional.empty()), registry, store, routes);
    return server;
  }

  /**
   * Issue #12's root cause: the JDK server's maxReqTime ran from the moment a request became
   * readable, so a request that had arrived whole but waited for a worker (a busy pool, a starved
   * CPU) was closed unanswered. Here a request waits for the only handler turn longer than the
   * header deadline, and is served.
   */
  @Test
  void aWholeRequestThatWaitsForAHandlerTurnIsServedNotClosed() throws Exception {
    HttpHandler slow = exchange -> {
      try {
        Thread.sleep(2500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Responses.text(exchange, 200, "slow\n");
    };
    start(1, new ExporterConfig.ClientLimits(16, 16, Duration.ofSeconds(1)), Map.of("/slow", slow));
    try (Socket first = socket(); Socket second = socket()) {
      send(first, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      Thread.sleep(200);
      long start = System.nanoTime();
      send(second, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
      String answer = statusLine(second);
      long waited = (System.nanoTime() - start) / 1_000_000;
      assertEquals("HTTP/1.1 200 OK", answer, "served after waiting " + waited + " ms for a turn");
      assertTrue(waited > 1000, "it did wait longer than the 1 s header deadline: " + waited + " ms");
      assertEquals("HTTP/1.1 200 OK", statusLine(first));
    }
  }

  @Test
  void everyResponseSaysNosniffAndJsonToo() throws Exception {
    HttpHandler json = exchange -> Responses.json(exchange, 200, "{\"ok\":true}\n");
    start(2, ExporterConfig.ClientLimits.DEFAULTS, Map.of("/api/x", json));
    for (String path : new String[] {"/api/x", "/metrics", "/nope", "/"}) {
      String head = head(path);
      assertTrue(head.toLowerCase().contains("\r\nx-content-type-options: nosniff\r\n"), path + ": " + head);
    }
    assertTrue(head("/api/x").toLowerCase().contains("content-type: application/json"));
  }

  @Test
  void listeningOnNamesTheBoundAddress() throws Exception {
    start(1, ExporterConfig.ClientLimits.DEFAULTS, Map.of());
    assertEquals("127.0.0.1:" + server.port(), server.listeningOn());
    assertEquals("[0:0:0:0:0:0:0:1]:9824", ExporterHttpServer.hostPort(new java.net.InetSocketAddress("::1", 9824)));
  }

  @Test
  void brokenRequestsGetA4xxAndAClose() throws Exception {
    start(1, ExporterConfig.ClientLimits.DEFAULTS, Map.of());
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n"));
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n"));
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"));
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /metrics HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /me\rtrics HTTP/1.1\r\n\r\n"));
    assertEquals("HTTP/1.1 400 Bad Request", exchange("GET http://evil/metrics HTTP/1.1\r\n\r\n"));
    assertEquals("HTTP/1.1 505 HTTP Version Not Supported", exchange("GET /metrics HTTP/2.0\r\n\r\n"));
    assertEquals("HTTP/1.1 413 Content Too Large", exchange("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"));
    assertEquals("HTTP/1.1 431 Request Header Fields Too Large",
        exchange("GET /metrics HTTP/1.1\r\n" + "X-A: 1\r\n".repeat(101) + "\r\n"));
    assertEquals("HTTP/1.1 431 Request Header Fields Too Large",
        exchange("GET /metrics HTTP/1.1\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n"));
    assertEquals("HTTP/1.1 200 OK", exchange("GET /-/healthy HTTP/1.0\r\n\r\n"), "HTTP/1.0 is served");
  }

  @Test
  void aKeptAliveConnectionServesPipelinedRequestsInOrder() throws Exception {
    start(1, ExporterConfig.ClientLimits.DEFAULTS, Map.of());
    try (Socket s = socket()) {
      send(s, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
      String all = new String(readAtLeast(s.getInputStream(), 2), StandardCharsets.ISO_8859_1);
      assertTrue(all.startsWith("HTTP/1.1 200 OK"), all);
      assertTrue(all.contains("HTTP/1.1 404 Not Found"), all);
    }
  }

  /**
   * The deadline counts only waiting for the client: a reader that runs late (a starved CPU) must
   * still read a head whose bytes arrived in time, and only a head still incomplete at the deadline
   * times out. The reader checks the kernel's byte count only when its own buffer is empty.
   */
  @Test
  void aLateReaderStillReadsAHeadThatArrivedInTime() throws Exception {
    try (java.net.ServerSocket listening = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), listening.getLocalPort());
        Socket accepted = listening.accept()) {
      RequestHead.Input in = new RequestHead.Input(accepted.getInputStream(), 16);
      send(client, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\nGET /next HTTP/1.1\r\n");
      long pastDeadline = System.nanoTime() - Duration.ofSeconds(1).toNanos();
      for (int waited = 0; accepted.getInputStream().available() == 0 && waited < 100; waited++) {
        Thread.sleep(20);
      }
      RequestHead head = RequestHead.read(in, accepted, pastDeadline);
      assertEquals("/metrics", head.uri().getPath());
      assertEquals("text/plain", head.headers().getFirst("Accept"));
      // The second head is incomplete and the deadline has passed: nothing more will come in time.
      org.junit.jupiter.api.Assertions.assertThrows(java.net.SocketTimeoutException.class,
          () -> RequestHead.read(in, accepted, System.nanoTime() + Duration.ofMillis(300).toNanos()));
    }
  }

  /**
   * /metrics bodies are written from the cached array (head and body in two writes above
   * {@code Wire.JOIN_BELOW}, one below): each response on a kept-alive connection is whole, with a
   * Content-Length equal to what follows.
   */
  @Test
  void largeAndSmallMetricsBodiesAreServedWholeOnOneConnection() throws Exception {
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    PrometheusRegistry registry = new PrometheusRegistry();
    io.prometheus.metrics.model.snapshots.GaugeSnapshot.Builder wide = io.prometheus.metrics.model.snapshots.GaugeSnapshot.builder()
        .name("test_wide").help("Many series, for a body above the join size.");
    for (int i = 0; i < 400; i++) {
      wide.dataPoint(io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot.builder()
          .labels(io.prometheus.metrics.model.snapshots.Labels.of("n", "series-" + i)).value(i).build());
    }
    io.prometheus.metrics.model.snapshots.GaugeSnapshot snapshot = wide.build();
    registry.register(() -> snapshot);
    server = new ExporterHttpServer(new ExporterConfig.Http("127.0.0.1", 0, 2, ExporterConfig.ClientLimits.DEFAULTS,
        Optional.empty(), Optional.empty()), registry, store, Map.of());
    try (Socket s = socket()) {
      InputStream in = s.getInputStream();
      for (String path : new String[] {"/metrics", "/-/healthy", "/metrics"}) {
        send(s, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
        String head = readHead(in);
        assertTrue(head.startsWith("HTTP/1.1 200 OK"), head);
        int length = Integer.parseInt(head.replaceAll("(?is).*\r\ncontent-length: *(\\d+)\r\n.*", "$1"));
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        assertEquals(length, body.getBytes(StandardCharsets.UTF_8).length);
        if (path.equals("/metrics")) {
          assertTrue(length > BufferedExchange.Wire.JOIN_BELOW, "a body above the join size: " + length);
          assertTrue(body.contains("test_wide{n=\"series-399\"} 399.0"), body.substring(Math.max(0, body.length() - 300)));
        } else {
          assertEquals("OK\n", body);
        }
      }
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }

  private Socket socket() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
    s.setSoTimeout(10_000);
    return s;
  }

  private String exchange(String request) throws IOException {
    try (Socket s = socket()) {
      send(s, request);
      return statusLine(s);
    }
  }

  private String head(String path) throws IOException {
    try (Socket s = socket()) {
      send(s, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return all.substring(0, all.indexOf("\r\n\r\n") + 2);
    }
  }

  private static void send(Socket s, String request) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(request.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  private static String statusLine(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  /** Reads until {@code responses} status lines have come (or the connection ends). */
  private static byte[] readAtLeast(InputStream in, int responses) throws IOException {
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    while (new String(all.toByteArray(), StandardCharsets.ISO_8859_1).split("HTTP/1.1 ", -1).length - 1 < responses) {
      int n = in.read(buffer);
      if (n < 0) {
        break;
      }
      all.write(buffer, 0, n);
    }
    return all.toByteArray();
  }
}
