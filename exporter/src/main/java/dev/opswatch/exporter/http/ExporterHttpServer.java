package dev.opswatch.exporter.http;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The exporter's HTTP endpoints on the JDK's server. All paths go through one exact-match
 * dispatcher, so that /metricsx is a 404 rather than a prefix match, and so that basic auth
 * covers every endpoint alike.
 */
public final class ExporterHttpServer implements AutoCloseable {
  private static final int QUEUE = 1024;
  private static final String ADMIN_PREFIX = "/api/";

  static {
    // Read once by the JDK server when its first instance is created: close clients that take
    // longer than 5 s to send a request (slow loris) or send too many headers.
    setDefault("sun.net.httpserver.maxReqTime", "5");
    setDefault("sun.net.httpserver.maxRspTime", "30");
    setDefault("sun.net.httpserver.maxReqHeaders", "100");
    setDefault("sun.net.httpserver.idleInterval", "30");
    // Without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to small responses (bench/RESULTS.md:
    // p99 at one client 48 ms -> 16 ms).
    setDefault("sun.net.httpserver.nodelay", "true");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
  private final HttpServer server;
  private final ExecutorService executor;

  public ExporterHttpServer(
      ExporterConfig.Http config, PrometheusRegistry registry, SnapshotStore store, Map<String, HttpHandler> extraRoutes)
      throws IOException {
    Map<String, HttpHandler> routes = new LinkedHashMap<>();
    routes.put("/metrics", new MetricsEndpoint(registry));
    routes.put("/-/healthy", exchange -> Responses.text(exchange, 200, "OK\n"));
    routes.put("/-/ready", exchange -> readiness(exchange, store));
    routes.putAll(extraRoutes);
    routes.put("/", new LandingPage(routes.keySet()));

    InetSocketAddress address = new InetSocketAddress(config.bindAddress(), config.port());
    this.server = config.tls().isPresent() ? https(address, config.tls().get()) : HttpServer.create(address, 64);
    // The JDK server reads request headers on the worker thread, so a slow client holds one
    // until sun.net.httpserver.maxReqTime. Up to `threads` workers start when all others are
    // busy and end when idle; beyond that, requests queue rather than being dropped.
    ThreadPoolExecutor pool = WorkerPool.create(config.threads(), QUEUE);
    this.executor = pool;
    server.setExecutor(executor);
    var context = server.createContext("/", new Dispatcher(routes));
    config.basicAuth().ifPresent(auth -> context.setAuthenticator(new BasicAuthenticator("opswatch") {
      @Override
      public Result authenticate(HttpExchange exchange) {
        // The admin API has its own bearer token, and one Authorization header cannot carry both.
        if (exchange.getRequestURI().getPath().startsWith(ADMIN_PREFIX)) {
          return new Success(new com.sun.net.httpserver.HttpPrincipal("admin-api", "opswatch"));
        }
        return super.authenticate(exchange);
      }

      @Override
      public boolean checkCredentials(String user, String password) {
        return Responses.constantTimeEquals(user, auth.username()) & Responses.constantTimeEquals(password, auth.password());
      }
    }));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void readiness(HttpExchange exchange, SnapshotStore store) throws IOException {
    if (store.ready()) {
      Responses.text(exchange, 200, "ready\n");
    } else {
      Responses.text(exchange, 503, "not ready: waiting for the first successful refresh of every database source\n");
    }
  }

  private static HttpsServer https(InetSocketAddress address, ExporterConfig.Tls tls) throws IOException {
    try (InputStream in = java.nio.file.Files.newInputStream(tls.keystoreFile())) {
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(in, tls.keystorePassword().toCharArray());
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, tls.keystorePassword().toCharArray());
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(kmf.getKeyManagers(), null, null);
      HttpsServer https = HttpsServer.create(address, 64);
      https.setHttpsConfigurator(new HttpsConfigurator(ssl));
      return https;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot load the TLS keystore " + tls.keystoreFile() + ": " + e.getClass().getSimpleName(), e);
    }
  }

  /** Exact path match; GET and HEAD only. */
  private record Dispatcher(Map<String, HttpHandler> routes) implements HttpHandler {
    @Override
    public void handle(HttpExchange exchange) throws IOException {
      try (exchange) {
        String method = exchange.getRequestMethod();
        HttpHandler handler = routes.get(exchange.getRequestURI().getPath());
        if (handler == null) {
          Responses.text(exchange, 404, "not found\n");
        } else if (!method.equals("GET") && !method.equals("HEAD")) {
          exchange.getResponseHeaders().set("Allow", "GET, HEAD");
          Responses.text(exchange, 405, "method not allowed\n");
        } else {
          handler.handle(exchange);
        }
      } catch (RuntimeException e) {
        // A handler bug must cost one request, not the connection thread.
        try {
          Responses.text(exchange, 500, "internal error\n");
        } catch (IOException | RuntimeException ignored) {
          // The response may already be under way.
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
    try {
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
