package dev.opswatch.exporter.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;

/**
 * /metrics, encoded once per change of content rather than once per scrape. The metrics change
 * only when a source refreshes or goes stale, yet encoding them was most of a scrape's CPU
 * (bench/RESULTS.md); here a scrape mostly writes cached bytes. One body is kept per format,
 * escaping scheme and compression the clients ask for. Requests with query parameters
 * ({@code name[]} filters, {@code debug}) are rare and go to client_java's handler uncached.
 */
public final class MetricsEndpoint implements HttpHandler {
  private final PrometheusRegistry registry;
  private final Supplier<?> contentMark;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final HttpHandler uncached;
  private final Map<Variant, Rendered> cache = new ConcurrentHashMap<>();

  /** {@code contentMark} returns equal values exactly while the registry's content is unchanged. */
  public MetricsEndpoint(PrometheusRegistry registry, Supplier<?> contentMark) {
    this.registry = registry;
    this.contentMark = contentMark;
    this.uncached = new MetricsHandler(registry);
  }

  private record Variant(ExpositionFormatWriter writer, EscapingScheme escaping, boolean gzip) {}

  private record Rendered(Object mark, byte[] body) {}

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
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private byte[] body(Variant variant) throws IOException {
    Rendered cached = cache.get(variant);
    Object mark = contentMark.get();
    if (cached != null && cached.mark().equals(mark)) {
      return cached.body();
    }
    // One render at a time: after a refresh, concurrent scrapers wait for one encoding instead
    // of each doing their own.
    synchronized (this) {
      cached = cache.get(variant);
      if (cached != null && cached.mark().equals(mark)) {
        return cached.body();
      }
      // The mark is read before the scrape: if a refresh lands in between, the body is newer
      // than its mark and the next scrape renders again. A body is never older than its mark.
      byte[] body = render(variant);
      cache.put(variant, new Rendered(mark, body));
      return body;
    }
  }

  private byte[] render(Variant variant) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(32 * 1024);
    try (OutputStream out = variant.gzip() ? new GZIPOutputStream(buffer) : buffer) {
      variant.writer().write(out, registry.scrape(), variant.escaping());
    }
    return buffer.toByteArray();
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
