package dev.opswatch.exporter.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpPrincipal;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The exporter's HTTP endpoints. All paths go through one exact-match dispatcher, so that
 * /metricsx is a 404 rather than a prefix match; basic auth, when configured, covers every path
 * except the admin API ({@code /api/*}), which has its own bearer token (one Authorization header
 * cannot carry both).
 *
 * <p>Connections are read by {@link HttpListener}, one thread each; at most {@code http.threads}
 * requests are handled at once (the others wait their turn, 10 s at most), which bounds the memory
 * of uncached renders without letting a slow client hold a turn: a request gets one only when it has
 * arrived whole, and gives it back before its response is written.
 */
public final class ExporterHttpServer implements AutoCloseable {
  private static final String ADMIN_PREFIX = "/api/";
  private static final int BACKLOG = 128;

  private final HttpListener listener;

  public ExporterHttpServer(
      ExporterConfig.Http config, PrometheusRegistry registry, SnapshotStore store, Map<String, HttpHandler> extraRoutes)
      throws IOException {
    Map<String, HttpHandler> routes = new LinkedHashMap<>();
    routes.put("/metrics", new MetricsEndpoint(registry));
    routes.put("/-/healthy", exchange -> Responses.text(exchange, 200, "OK\n"));
    routes.put("/-/ready", exchange -> readiness(exchange, store));
    routes.putAll(extraRoutes);
    routes.put("/", new LandingPage(routes.keySet()));
    Dispatcher dispatcher = new Dispatcher(Map.copyOf(routes), config.basicAuth(), new Semaphore(config.threads()));

    InetAddress bind = InetAddress.getByName(config.bindAddress());
    ServerSocket socket = config.tls().isPresent() ? TlsSockets.serverSocket(config.tls().get()) : new ServerSocket();
    try {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(bind, config.port()), BACKLOG);
    } catch (IOException e) {
      socket.close();
      throw new IOException("cannot listen on " + hostPort(new InetSocketAddress(bind, config.port())) + ": " + e.getMessage(), e);
    }
    this.listener = new HttpListener(socket, config.limits(), dispatcher);
  }

  public int port() {
    return listener.address().getPort();
  }

  /** The address and port actually bound, for the "listening on" line: {@code 127.0.0.1:9824}, {@code [::]:9824}. */
  public String listeningOn() {
    return hostPort(listener.address());
  }

  static String hostPort(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  private static void readiness(com.sun.net.httpserver.HttpExchange exchange, SnapshotStore store) throws IOException {
    if (store.ready()) {
      Responses.text(exchange, 200, "ready\n");
    } else {
      Responses.text(exchange, 503, "not ready: waiting for the first successful refresh of every database source\n");
    }
  }

  /** Exact path match; GET and HEAD only; basic auth first where it applies. */
  private record Dispatcher(Map<String, HttpHandler> routes, Optional<ExporterConfig.BasicAuth> basicAuth, Semaphore turns)
      implements Connection.Handler {
    @Override
    public void handle(BufferedExchange exchange) throws IOException {
      boolean turn;
      try {
        turn = turns.tryAcquire(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
      if (!turn) {
        exchange.getResponseHeaders().set("Retry-After", "1");
        Responses.text(exchange, 503, "busy\n");
        return;
      }
      try {
        route(exchange);
      } finally {
        turns.release();
      }
    }

    private void route(BufferedExchange exchange) throws IOException {
      String path = exchange.getRequestURI().getPath();
      if (basicAuth.isPresent() && (path == null || !path.startsWith(ADMIN_PREFIX)) && !authorized(exchange, basicAuth.get())) {
        exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"opswatch\", charset=\"UTF-8\"");
        Responses.text(exchange, 401, "unauthorized\n");
        return;
      }
      String method = exchange.getRequestMethod();
      HttpHandler handler = path == null ? null : routes.get(path);
      if (handler == null) {
        Responses.text(exchange, 404, "not found\n");
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        Responses.text(exchange, 405, "method not allowed\n");
      } else {
        handler.handle(exchange);
      }
    }

    private static boolean authorized(BufferedExchange exchange, ExporterConfig.BasicAuth auth) {
      String header = exchange.getRequestHeaders().getFirst("Authorization");
      if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
        return false;
      }
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(header.substring(6).strip()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return false;
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return false;
      }
      String user = decoded.substring(0, colon);
      // Both compared in constant time, and both always compared.
      boolean ok = Responses.constantTimeEquals(user, auth.username()) & Responses.constantTimeEquals(decoded.substring(colon + 1), auth.password());
      if (ok) {
        exchange.setPrincipal(new HttpPrincipal(user, "opswatch"));
      }
      return ok;
    }
  }

  @Override
  public void close() {
    listener.close();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
