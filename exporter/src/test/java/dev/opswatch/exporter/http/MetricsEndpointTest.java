package dev.opswatch.exporter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import dev.opswatch.exporter.metrics.StoreCollector;
import dev.opswatch.exporter.refresh.SnapshotStore;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.Http;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cached /metrics body follows every change of the store, in every format and encoding, and is
 * keyed on exactly what it encodes: the registry's snapshot objects.
 */
class MetricsEndpointTest {
  private static final Instant T0 = Instant.parse("2026-11-28T12:00:00Z");
  private static final MetricFamily TEST_VALUE = MetricFamily.gauge("test_value", "A test value.", "source");
  private static final Source<Double> ALPHA = source("alpha");
  private static final Source<Double> BETA = source("beta");

  private final AtomicReference<Instant> now = new AtomicReference<>(T0);
  private SnapshotStore store;
  private PrometheusRegistry registry;
  private MetricsEndpoint endpoint;
  private HttpServer server;

  @BeforeEach
  void start() throws IOException {
    Clock clock = new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return now.get();
      }
    };
    store = new SnapshotStore(Duration.ofMinutes(15), clock);
    store.register(ALPHA);
    store.register(BETA);
    registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, "test"));
    endpoint = new MetricsEndpoint(registry);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/metrics", exchange -> {
      try (exchange) {
        endpoint.handle(exchange);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void servesWhatTheRegistryHoldsAfterEachRefreshAndFailure() throws IOException {
    assertEquals(encodedNow(), scrape());
    store.recordSuccess(ALPHA, output("alpha", 1), Duration.ofMillis(5));
    assertEquals(1.0, Exposition.parse(scrape()).value("test_value", "source", "alpha"));
    assertEquals(encodedNow(), scrape());

    store.recordSuccess(ALPHA, output("alpha", 2), Duration.ofMillis(5));
    store.recordSuccess(BETA, output("beta", 7), Duration.ofMillis(5));
    String body = scrape();
    assertEquals(2.0, Exposition.parse(body).value("test_value", "source", "alpha"));
    assertEquals(7.0, Exposition.parse(body).value("test_value", "source", "beta"));

    store.recordFailure(BETA, Duration.ofMillis(5));
    assertEquals(0.0, Exposition.parse(scrape()).value("opswatch_source_up", "source", "beta"));
    assertEquals(encodedNow(), scrape());
  }

  @Test
  void dataGoingStaleDropsFromTheCachedBodyWithoutARefresh() {
    store.recordSuccess(ALPHA, output("alpha", 1), Duration.ofMillis(5));
    now.set(T0.plus(Duration.ofMinutes(10)));
    store.recordSuccess(BETA, output("beta", 2), Duration.ofMillis(5));
    assertTrue(Exposition.parse(scrape()).find("test_value", "source", "alpha").isPresent());

    now.set(T0.plus(Duration.ofMinutes(16)));
    String body = scrape();
    assertTrue(Exposition.parse(body).find("test_value", "source", "alpha").isEmpty(), body);
    assertEquals(2.0, Exposition.parse(body).value("test_value", "source", "beta"));
  }

  @Test
  void anUnchangedStoreIsEncodedOncePerVariant() {
    store.recordSuccess(ALPHA, output("alpha", 1), Duration.ofMillis(5));
    String first = scrape();
    for (int i = 0; i < 20; i++) {
      assertEquals(first, scrape());
    }
    assertEquals(1, endpoint.encodings());
    send("GET", "Accept-Encoding", "gzip");
    send("GET", "Accept-Encoding", "gzip");
    assertEquals(2, endpoint.encodings(), "the gzip body is a variant of its own, encoded once");

    store.recordSuccess(ALPHA, output("alpha", 1), Duration.ofMillis(5));
    scrape();
    scrape();
    assertEquals(3, endpoint.encodings(), "a refresh re-encodes once, even with the same values");
  }

  @Test
  void aCollectorWithNewSnapshotsPerScrapeIsNeverServedFromAStaleBody() {
    AtomicInteger scrapes = new AtomicInteger();
    MetricFamily counter = MetricFamily.gauge("other_collector_scrapes", "Scrapes seen by another collector.");
    registry.register(() -> new Samples().add(counter, scrapes.incrementAndGet()).toSnapshots());
    for (int i = 1; i <= 3; i++) {
      assertEquals(i, Exposition.parse(scrape()).value("other_collector_scrapes"));
    }
    assertEquals(3, endpoint.encodings(), "new snapshot objects are new content: encoded again");
  }

  @Test
  void gzipOpenMetricsAndHeadAgreeWithThePlainBody() throws Exception {
    store.recordSuccess(ALPHA, output("alpha", 3), Duration.ofMillis(5));
    HttpResponse<byte[]> gzip = send("GET", "Accept-Encoding", "deflate, gzip;q=1.0");
    assertEquals("gzip", gzip.headers().firstValue("Content-Encoding").orElse(""));
    assertEquals(scrape(), gunzip(gzip.body()));

    HttpResponse<byte[]> refused = send("GET", "Accept-Encoding", "gzip;q=0, identity");
    assertTrue(refused.headers().firstValue("Content-Encoding").isEmpty(), "q=0 refuses gzip");
    assertEquals(scrape(), new String(refused.body(), StandardCharsets.UTF_8));

    HttpResponse<byte[]> om = send("GET", "Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
    String text = new String(om.body(), StandardCharsets.UTF_8);
    assertTrue(text.endsWith("# EOF\n"), text);
    assertEquals(3.0, Exposition.parse(text).value("test_value", "source", "alpha"));

    HttpResponse<byte[]> head = send("HEAD");
    assertEquals(200, head.statusCode());
    assertEquals(scrape().getBytes(StandardCharsets.UTF_8).length,
        Integer.parseInt(head.headers().firstValue("Content-Length").orElse("-1")));
  }

  @Test
  void nameFilterStillWorks() {
    store.recordSuccess(ALPHA, output("alpha", 1), Duration.ofMillis(5));
    String body = Http.get(server.getAddress().getPort(), "/metrics?name[]=opswatch_source_up").body();
    assertTrue(body.contains("opswatch_source_up"), body);
    assertFalse(body.contains("test_value"), body);
  }

  private String scrape() {
    HttpResponse<String> response = Http.get(server.getAddress().getPort(), "/metrics");
    assertEquals(200, response.statusCode());
    return response.body();
  }

  private String encodedNow() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  private HttpResponse<byte[]> send(String method, String... headers) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/metrics"))
        .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i + 1 < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    try {
      return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(method + " /metrics failed: " + e, e);
    }
  }

  private static String gunzip(byte[] bytes) throws IOException {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static SourceOutput<Double> output(String source, double value) {
    return SourceOutput.of(new Samples().add(TEST_VALUE, value, source), value);
  }

  private static Source<Double> source(String name) {
    return new Source<>() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Duration refreshInterval() {
        return Duration.ofMinutes(1);
      }

      @Override
      public SourceOutput<Double> refresh(Instant at) {
        throw new UnsupportedOperationException("the test records outputs directly");
      }
    };
  }
}
