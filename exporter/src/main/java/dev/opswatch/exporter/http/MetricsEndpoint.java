package dev.opswatch.exporter.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.opswatch.exporter.metrics.Identical;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPOutputStream;

/**
 * /metrics, encoded once per change of content rather than once per scrape. Encoding was most of a
 * scrape's CPU (bench/RESULTS.md), while the snapshots change only when a source refreshes or goes
 * stale. A body is cached under exactly what it was encoded from: the registry's snapshot objects
 * (immutable, and the same objects while nothing changed, see {@code StoreCollector}), compared by
 * identity. A collector that builds new snapshots per scrape only makes every scrape encode. One
 * body is kept per format, escaping scheme and compression the clients ask for. Requests with query
 * parameters ({@code name[]} filters, {@code debug}) are rare and go to client_java's handler uncached.
 */
public final class MetricsEndpoint implements HttpHandler {
  private final PrometheusRegistry registry;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final HttpHandler uncached;
  private final Map<Variant, Rendered> cache = new ConcurrentHashMap<>();
  private final AtomicLong encodings = new AtomicLong();

  public MetricsEndpoint(PrometheusRegistry registry) {
    this.registry = registry;
    this.uncached = new MetricsHandler(registry);
  }

  private record Variant(ExpositionFormatWriter writer, EscapingScheme escaping, boolean gzip) {}

  /** A body and the snapshots it was encoded from. */
  private record Rendered(List<MetricSnapshot> source, byte[] body) {
    boolean encodes(List<MetricSnapshot> snapshots) {
      return Identical.elements(source, snapshots);
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (exchange.getRequestURI().getRawQuery() != null) {
      uncached.handle(exchange);
      return;
    }
    String accept = exchange.getRequestHeaders().getFirst("Accept");
    Variant variant = new Variant(formats.findWriter(accept), EscapingScheme.fromAcceptHeader(accept), acceptsGzip(exchange));
    byte[] body = body(variant);
    exchange.getResponseHeaders().set("Content-Type", variant.writer().getContentType());
    if (variant.gzip()) {
      exchange.getResponseHeaders().set("Content-Encoding", "gzip");
    }
    if (exchange.getRequestMethod().equals("HEAD")) {
      exchange.getResponseHeaders().set("Content-Length", String.valueOf(body.length));
      exchange.sendResponseHeaders(200, -1);
      return;
    }
    if (exchange instanceof BufferedExchange ours) {
      ours.sendUnchanging(200, body);
      return;
    }
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private byte[] body(Variant variant) throws IOException {
    MetricSnapshots snapshots = registry.scrape();
    List<MetricSnapshot> source = snapshots.stream().toList();
    Rendered cached = cache.get(variant);
    if (cached != null && cached.encodes(source)) {
      return cached.body();
    }
    // One encoding at a time: after a refresh, concurrent scrapers wait for one encoding instead
    // of each doing their own.
    synchronized (this) {
      cached = cache.get(variant);
      if (cached != null && cached.encodes(source)) {
        return cached.body();
      }
      byte[] body = render(variant, snapshots);
      encodings.incrementAndGet();
      cache.put(variant, new Rendered(source, body));
      return body;
    }
  }

  private static byte[] render(Variant variant, MetricSnapshots snapshots) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(32 * 1024);
    try (OutputStream out = variant.gzip() ? new GZIPOutputStream(buffer) : buffer) {
      variant.writer().write(out, snapshots, variant.escaping());
    }
    return buffer.toByteArray();
  }

  /** How many bodies were encoded since start: once per variant and change of content. */
  long encodings() {
    return encodings.get();
  }

  private static boolean acceptsGzip(HttpExchange exchange) {
    List<String> values = exchange.getRequestHeaders().get("Accept-Encoding");
    if (values == null) {
      return false;
    }
    return values.stream()
        .flatMap(v -> List.of(v.split(",")).stream())
        .map(coding -> coding.replace(" ", "").toLowerCase(java.util.Locale.ROOT))
        .anyMatch(coding -> coding.equals("gzip") || (coding.startsWith("gzip;") && !coding.matches("gzip;q=0(\\.0*)?")));
  }
}
