package dev.opswatch.exporter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.metrics.StoreCollector;
import dev.opswatch.exporter.refresh.SnapshotStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue #19 item 7: TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only, whatever the client offers. */
class TlsSocketsTest {
  @TempDir
  static Path dir;
  private static ExporterHttpServer server;

  @BeforeAll
  static void start() throws Exception {
    Path keystore = dir.resolve("exporter.p12");
    Process keytool = new ProcessBuilder("keytool", "-genkeypair", "-alias", "exporter", "-keyalg", "RSA", "-keysize", "2048",
        "-dname", "CN=localhost", "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
        "-storepass", "test-only-pass").redirectErrorStream(true).start();
    assertEquals(0, keytool.waitFor(), new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    SnapshotStore store = new SnapshotStore(Duration.ofMinutes(15), Clock.systemUTC());
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, "test"));
    server = new ExporterHttpServer(new ExporterConfig.Http("127.0.0.1", 0, 2, ExporterConfig.ClientLimits.DEFAULTS, Optional.empty(),
        Optional.of(new ExporterConfig.Tls(keystore, "test-only-pass"))), registry, store, Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void tls13IsServed() throws Exception {
    assertEquals("TLSv1.3", handshake("TLSv1.3", null));
  }

  @Test
  void tls12WithForwardSecretAeadSuitesIsServed() throws Exception {
    assertEquals("TLSv1.2", handshake("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    assertEquals("TLSv1.2", handshake("TLSv1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
  }

  @Test
  void cbcSha1AndStaticRsaSuitesAreRefused() {
    for (String suite : new String[] {
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"}) {
      assertThrows(IOException.class, () -> handshake("TLSv1.2", suite), suite);
    }
  }

  @Test
  void theAllowedSuitesAreExactlyTheAeadOnes() {
    String[] allowed = TlsSockets.suites(new String[] {
        "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"});
    assertEquals(java.util.List.of("TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        java.util.List.of(allowed));
  }

  /** The negotiated protocol; the suite, when given, is the only one the client offers. */
  private static String handshake(String protocol, String suite) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new TrustAll()}, null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.setSoTimeout(5000);
      socket.setEnabledProtocols(new String[] {protocol});
      if (suite != null) {
        socket.setEnabledCipherSuites(new String[] {suite});
      }
      socket.startHandshake();
      socket.getOutputStream().write("GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertEquals("HTTP/1.1 200 OK", answer.substring(0, answer.indexOf('\r')));
      return socket.getSession().getProtocol();
    }
  }

  /** Test-only: the certificate is self-signed; what is tested is the protocol and suite. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
