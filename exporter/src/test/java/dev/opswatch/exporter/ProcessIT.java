package dev.opswatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.testing.Await;
import dev.opswatch.exporter.testing.Http;
import dev.opswatch.exporter.testing.TestDatabase;
import java.io.FileInputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar as an operator runs it: TLS from a keystore, and a clean stop on SIGTERM. */
class ProcessIT {
  private static final Duration LIMIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void sigtermClosesTheServerAndThePoolWithinSeconds() throws Exception {
    try (TestDatabase db = TestDatabase.create()) {
      db.executeFile(TestDatabase.repoFile("demo/seed.sql"));
      int port = freePort();
      Path log = dir.resolve("exporter.log");
      // pgjdbc reads sslpassword (a client key's passphrase) from the URL; unused here, never logged.
      Process exporter = start(db, port, log, new String[] {"OPSWATCH_DATABASE_URL", db.appUrl() + "?sslpassword=never-logged-3x"});
      try {
        Await.until("ready", LIMIT, () -> ready(port));
        // Issues #20 item 6 and #19 item 3: one line says what was bound (not a configured wildcard), no secret.
        List<String> listening = Files.readAllLines(log).stream().filter(l -> l.contains("listening on")).toList();
        assertEquals(1, listening.size(), "one listening line: " + listening);
        assertTrue(listening.get(0).contains("listening on 127.0.0.1:" + port + ", database jdbc:postgresql://"), listening.get(0));
        assertTrue(listening.get(0).contains("sslpassword=***"), listening.get(0));
        assertFalse(Files.readString(log).contains("never-logged-3x"), "a secret parameter is never logged");
        Await.until("a pooled connection", LIMIT, () -> connections(db) > 0);
        long stopping = System.nanoTime();
        exporter.destroy(); // SIGTERM
        assertTrue(exporter.waitFor(10, TimeUnit.SECONDS), "still running 10 s after SIGTERM");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stopping);
        assertTrue(seconds < 10, "took " + seconds + " s");
        assertEquals(0, connections(db), "connections left open after exit");
        assertFalse(ready(port), "the port still answers");
      } finally {
        exporter.destroyForcibly();
      }
    }
  }

  @Test
  void servesEveryEndpointOverTlsFromAKeystore() throws Exception {
    Path keystore = dir.resolve("exporter.p12");
    Path passwordFile = dir.resolve("keystore-password");
    Files.writeString(passwordFile, "test-only-pass\n");
    Process keytool = new ProcessBuilder("keytool", "-genkeypair", "-alias", "opswatch", "-keyalg", "RSA", "-keysize", "2048",
        "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", keystore.toString(), "-storepass", "test-only-pass").redirectErrorStream(true).start();
    assertEquals(0, keytool.waitFor(), new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

    try (TestDatabase db = TestDatabase.create()) {
      int port = freePort();
      Process exporter = start(db, port, dir.resolve("tls.log"), new String[] {
          "CONFIG_FORCE_opswatch_http_tls_keystore__file", keystore.toString(),
          "CONFIG_FORCE_opswatch_http_tls_keystore__password__file", passwordFile.toString()});
      try {
        HttpClient client = HttpClient.newBuilder().sslContext(trusting(keystore)).connectTimeout(Duration.ofSeconds(5)).build();
        Await.until("https ready", LIMIT, () -> status(client, "https://127.0.0.1:" + port + "/-/ready") == 200);
        HttpResponse<String> metrics = client.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("opswatch_source_up"));
        assertFalse(ready(port), "plain HTTP must not be served when TLS is on");
      } finally {
        exporter.destroy();
        exporter.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static Process start(TestDatabase db, int port, Path log, String[] extraEnv) throws Exception {
    Path jar = TestDatabase.repoFile("exporter/target/opswatch-exporter.jar");
    assertTrue(Files.exists(jar), "the jar is packaged before integration tests run");
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("OPSWATCH_DATABASE_URL", db.appUrl());
    pb.environment().put("OPSWATCH_HTTP_PORT", Integer.toString(port));
    pb.environment().put("CONFIG_FORCE_opswatch_http_bind__address", "127.0.0.1");
    for (int i = 0; i + 1 < extraEnv.length; i += 2) {
      pb.environment().put(extraEnv[i], extraEnv[i + 1]);
    }
    return pb.start();
  }

  private static boolean ready(int port) {
    try {
      return Http.get(port, "/-/ready").statusCode() == 200;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private static int status(HttpClient client, String url) {
    try {
      return client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static SSLContext trusting(Path keystore) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(keystore.toFile())) {
      trust.load(in, "test-only-pass".toCharArray());
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }

  private static int connections(TestDatabase db) {
    try (Connection c = db.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'opswatch-exporter' AND datname = '" + db.name() + "'")) {
      rs.next();
      return rs.getInt(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
