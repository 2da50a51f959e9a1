package dev.opswatch.exporter.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.testing.Exposition;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Probes against a local HTTP server: every answer the app's health endpoint can give, and worse. */
class ProbeSourceIT {
  private static final List<String> CHECKS = List.of("database", "ai_provider", "memory");
  private static final String HEALTHY = """
      {"status":"healthy","version":"0.24.8","uptime":120,
       "checks":{"database":{"status":"pass","message":"Connected","latency_ms":4},
                 "ai_provider":{"status":"pass"},"memory":{"status":"pass"}}}""";
  private static final String DEGRADED = """
      {"status":"degraded","checks":{"database":{"status":"warn","message":"Slow response"},
                 "ai_provider":{"status":"pass"},"memory":{"status":"pass"}}}""";
  private static final String UNHEALTHY = """
      {"status":"unhealthy","checks":{"database":{"status":"fail","message":"connection refused"},
                 "ai_provider":{"status":"pass"},"memory":{"status":"warn"}}}""";

  private MockWebServer server;

  @BeforeEach
  void start() throws IOException {
    server = new MockWebServer();
    server.start(0);
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
  }

  @Test
  void healthy() throws Exception {
    server.enqueue(json(200, HEALTHY).build());
    Exposition m = probe(target("app"));
    assertEquals(1, m.value("opswatch_probe_success", "target", "app"));
    assertEquals(200, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals("healthy", m.state("opswatch_probe_health_status", "target", "app").orElseThrow());
    for (String check : CHECKS) {
      assertEquals("pass", m.state("opswatch_probe_check_status", "target", "app", "check", check).orElseThrow());
    }
    assertEquals("none", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
    assertTrue(m.value("opswatch_probe_duration_seconds", "target", "app") > 0);
    RecordedRequest request = server.takeRequest();
    assertEquals("/api/health", request.getUrl().encodedPath());
    assertNull(request.getHeaders().get("Authorization"), "no token configured, none sent");
    assertTrue(request.getHeaders().get("User-Agent").startsWith("opswatch-exporter/"));
  }

  @Test
  void degradedStillServes() throws Exception {
    server.enqueue(json(200, DEGRADED).build());
    Exposition m = probe(target("app"));
    assertEquals(1, m.value("opswatch_probe_success", "target", "app"));
    assertEquals("degraded", m.state("opswatch_probe_health_status", "target", "app").orElseThrow());
    assertEquals("warn", m.state("opswatch_probe_check_status", "target", "app", "check", "database").orElseThrow());
    assertEquals("none", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
  }

  @Test
  void unhealthyWith503() throws Exception {
    server.enqueue(json(503, UNHEALTHY).build());
    Exposition m = probe(target("app"));
    assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
    assertEquals(503, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals("unhealthy", m.state("opswatch_probe_health_status", "target", "app").orElseThrow());
    assertEquals("fail", m.state("opswatch_probe_check_status", "target", "app", "check", "database").orElseThrow());
    assertEquals("warn", m.state("opswatch_probe_check_status", "target", "app", "check", "memory").orElseThrow());
    assertEquals("http_status", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
  }

  @Test
  void unhealthyWith200IsNoProbeFailureButNoSuccess() throws Exception {
    server.enqueue(json(200, UNHEALTHY).build());
    Exposition m = probe(target("app"));
    assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
    assertEquals("unhealthy", m.state("opswatch_probe_health_status", "target", "app").orElseThrow());
    assertEquals("none", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
  }

  @Test
  void slowAnswerPastTheTimeout() throws Exception {
    server.enqueue(json(200, HEALTHY).headersDelay(5, TimeUnit.SECONDS).build());
    long started = System.nanoTime();
    Exposition m = probe(config(Duration.ofMillis(500), Duration.ofSeconds(1), 4, target("app")));
    double took = (System.nanoTime() - started) / 1e9;
    assertTrue(took < 3, "the timeout cut the probe, took " + took + "s");
    assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
    assertEquals(0, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals("timeout", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
    assertEquals(Optional.empty(), m.state("opswatch_probe_health_status", "target", "app"), "no body, no reported status");
    assertTrue(m.value("opswatch_probe_duration_seconds", "target", "app") < 3);
  }

  @Test
  void invalidJson() throws Exception {
    server.enqueue(json(200, "{\"status\":\"healthy\",").setHeader("Content-Type", "application/json").build());
    Exposition m = probe(target("app"));
    assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
    assertEquals(200, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals("bad_body", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
    assertEquals(Optional.empty(), m.state("opswatch_probe_health_status", "target", "app"));
    assertEquals(3, m.series("opswatch_probe_health_status").size(), "all three states present, all 0");
    assertTrue(m.series("opswatch_probe_check_status").isEmpty());
  }

  @Test
  void anHtmlErrorPageIsAnHttpStatusFailure() throws Exception {
    server.enqueue(new MockResponse.Builder().code(502).body("<html>Bad Gateway</html>").build());
    Exposition m = probe(target("app"));
    assertEquals(502, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals("http_status", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
  }

  @Test
  void anOversizedBodyIsNotRead() throws Exception {
    server.enqueue(json(200, "{\"status\":\"healthy\",\"pad\":\"" + "x".repeat(HttpProber.MAX_BODY_BYTES) + "\"}").build());
    Exposition m = probe(target("app"));
    assertEquals("bad_body", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
  }

  @Test
  void connectionRefused() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Exposition m = probe(new ProbeTarget("gone", "http://127.0.0.1:" + port + "/api/health", Optional.empty(), CHECKS));
    assertEquals(0, m.value("opswatch_probe_success", "target", "gone"));
    assertEquals(0, m.value("opswatch_probe_http_status_code", "target", "gone"));
    assertEquals("connect", m.state("opswatch_probe_failure_reason", "target", "gone").orElseThrow());
  }

  @Test
  void httpsAgainstAPlainTextServerIsATlsFailure() throws Exception {
    try (ServerSocket plain = new ServerSocket(0)) {
      Thread answer = new Thread(() -> {
        try (var socket = plain.accept()) {
          // Answers the TLS hello in plain HTTP, as a misconfigured proxy would.
          socket.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          socket.getOutputStream().flush();
          Thread.sleep(500);
        } catch (IOException | InterruptedException ignored) {
          // The test asserts on what the prober saw.
        }
      });
      answer.setDaemon(true);
      answer.start();
      Exposition m = probe(new ProbeTarget("tls", "https://127.0.0.1:" + plain.getLocalPort() + "/api/health", Optional.empty(), CHECKS));
      assertEquals("tls", m.state("opswatch_probe_failure_reason", "target", "tls").orElseThrow());
      assertEquals(0, m.value("opswatch_probe_http_status_code", "target", "tls"));
    }
  }

  @Test
  void sendsTheBearerToken() throws Exception {
    server.enqueue(json(200, HEALTHY).build());
    probe(new ProbeTarget("detailed", server.url("/api/health/detailed").toString(), Optional.of("s3cret"), CHECKS));
    assertEquals("Bearer s3cret", server.takeRequest().getHeaders().get("Authorization"));
  }

  @Test
  void probesTargetsInParallelButNoMoreThanTheLimit() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Thread.sleep(300);
        inFlight.decrementAndGet();
        return json(200, HEALTHY).build();
      }
    });
    List<ProbeTarget> targets = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      targets.add(target("app" + i));
    }
    Exposition m = probe(config(Duration.ofSeconds(2), Duration.ofSeconds(5), 2, targets.toArray(ProbeTarget[]::new)));
    assertEquals(2, maxInFlight.get(), "at most max-concurrent probes at once, and more than one");
    for (ProbeTarget t : targets) {
      assertEquals(1, m.value("opswatch_probe_success", "target", t.name()));
    }
  }

  /** Issue #19 item 5: a redirect to another origin (here another port; in the report, a metadata address) is not followed. */
  @Test
  void redirectsToAnotherOriginAreNotFollowed() throws Exception {
    try (MockWebServer elsewhere = new MockWebServer()) {
      elsewhere.start();
      elsewhere.enqueue(json(200, HEALTHY).build());
      server.enqueue(redirect(302, elsewhere.url("/api/health")));
      ProbeTarget target = new ProbeTarget("app", server.url("/api/health").toString(), Optional.of("s3cret"), CHECKS);
      Exposition m = probe(target);
      assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
      assertEquals(302, m.value("opswatch_probe_http_status_code", "target", "app"));
      assertEquals("http_status", m.state("opswatch_probe_failure_reason", "target", "app").orElseThrow());
      assertEquals(0, elsewhere.getRequestCount(), "the other origin got no request (and so no token)");
    }
  }

  @Test
  void aRedirectToALinkLocalAddressIsNeverRequested() {
    server.enqueue(redirect(302, "http://169.254.169.254/latest/meta-data/"));
    ProbeResult r = new HttpProber(config(Duration.ofSeconds(2), Duration.ofSeconds(5), 1), "t").probe(target("app"));
    assertEquals(FailureReason.HTTP_STATUS, r.reason());
    assertEquals(302, r.httpStatus());
    assertTrue(r.detail().contains("169.254.169.254") && r.detail().contains("another origin"), r.detail());
  }

  @Test
  void redirectsWithinTheSameOriginAreFollowedUnlessTurnedOff() throws Exception {
    server.enqueue(redirect(301, "/api/health/"));
    server.enqueue(json(200, HEALTHY).build());
    ProbeTarget target = new ProbeTarget("app", server.url("/api/health").toString(), Optional.of("s3cret"), CHECKS);
    assertEquals(1, probe(target).value("opswatch_probe_success", "target", "app"));
    server.takeRequest();
    assertEquals("Bearer s3cret", server.takeRequest().getHeaders().get("Authorization"), "the token goes on within the origin");

    server.enqueue(redirect(301, "/api/health/"));
    ProbeConfig none = new ProbeConfig(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), 1, List.of(target),
        ProbeConfig.Redirects.NONE);
    Exposition m = probe(none);
    assertEquals(301, m.value("opswatch_probe_http_status_code", "target", "app"));
    assertEquals(0, m.value("opswatch_probe_success", "target", "app"));
  }

  @Test
  void endlessSameOriginRedirectsStop() {
    for (int i = 0; i <= HttpProber.MAX_REDIRECTS; i++) {
      server.enqueue(redirect(302, "/api/health?" + i));
    }
    ProbeResult r = new HttpProber(config(Duration.ofSeconds(2), Duration.ofSeconds(5), 1), "t").probe(target("app"));
    assertEquals(302, r.httpStatus());
    assertEquals(HttpProber.MAX_REDIRECTS + 1, server.getRequestCount());
  }

  /** Issue #20 item 4: the flat shape of docs/health-contract.md exports every check. */
  @Test
  void theFlatCheckShapeIsUnderstood() throws Exception {
    server.enqueue(json(200, "{\"checks\":{\"database\":\"pass\",\"ai_provider\":\"warn\",\"memory\":\"pass\"}}").build());
    Exposition m = probe(target("app"));
    assertEquals(1, m.value("opswatch_probe_success", "target", "app"));
    assertEquals("degraded", m.state("opswatch_probe_health_status", "target", "app").orElseThrow(), "derived from the checks");
    assertEquals("pass", m.state("opswatch_probe_check_status", "target", "app", "check", "database").orElseThrow());
    assertEquals("warn", m.state("opswatch_probe_check_status", "target", "app", "check", "ai_provider").orElseThrow());
  }

  @Test
  void anUnrecognisedBodyIsABadBodyAndItsReasonIsLoggedOncePerChange() {
    server.enqueue(json(200, "{\"status\":\"ok\"}").build());
    server.enqueue(json(200, "{\"status\":\"ok\"}").build());
    server.enqueue(json(200, "{\"state\":\"up\"}").build());
    ProbeSource source = new ProbeSource(Duration.ofSeconds(30), config(Duration.ofSeconds(2), Duration.ofSeconds(5), 1), "t");
    HttpProber prober = new HttpProber(config(Duration.ofSeconds(2), Duration.ofSeconds(5), 1), "t");
    ProbeResult first = prober.probe(target("app"));
    assertEquals(FailureReason.BAD_BODY, first.reason());
    assertEquals("unrecognised body: status \"ok\" is not one of healthy, degraded, unhealthy", first.detail());
    assertTrue(source.logChange(target("app"), first), "logged the first time");
    assertFalse(source.logChange(target("app"), prober.probe(target("app"))), "not again while nothing changes");
    ProbeResult other = prober.probe(target("app"));
    assertEquals("unrecognised body: no status, and no check with a status of pass, warn, fail", other.detail());
    assertTrue(source.logChange(target("app"), other), "logged when the reason changes");
  }

  @Test
  void neverGatesReadiness() {
    assertFalse(new ProbeSource(Duration.ofSeconds(30), config(Duration.ofSeconds(1), Duration.ofSeconds(2), 1), "t").gatesReadiness());
  }

  private ProbeTarget target(String name) {
    return new ProbeTarget(name, server.url("/api/health").toString(), Optional.empty(), CHECKS);
  }

  private static MockResponse redirect(int status, Object location) {
    return new MockResponse.Builder().code(status).setHeader("Location", location).build();
  }

  private static MockResponse.Builder json(int status, String body) {
    return new MockResponse.Builder().code(status).setHeader("Content-Type", "application/json").body(body);
  }

  private static ProbeConfig config(Duration readTimeout, Duration callTimeout, int maxConcurrent, ProbeTarget... targets) {
    return new ProbeConfig(Duration.ofSeconds(1), readTimeout, callTimeout, maxConcurrent, List.of(targets));
  }

  private static Exposition probe(ProbeTarget target) throws Exception {
    return probe(config(Duration.ofSeconds(2), Duration.ofSeconds(5), 4, target));
  }

  private static Exposition probe(ProbeConfig config) throws Exception {
    ProbeSource source = new ProbeSource(Duration.ofSeconds(30), config, "opswatch-exporter/test");
    return Exposition.of(source.refresh(Instant.now()).metrics());
  }
}
