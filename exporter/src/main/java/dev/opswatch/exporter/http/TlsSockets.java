package dev.opswatch.exporter.http;

import dev.opswatch.exporter.config.ExporterConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;

/**
 * TLS for the exporter's port: TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only (ECDHE
 * key exchange with AES-GCM or ChaCha20-Poly1305), the server's order preferred. No CBC, no SHA-1
 * MACs, no static-RSA key exchange, whatever the JDK's defaults allow.
 */
final class TlsSockets {
  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  /** TLS 1.3's suites are all AEAD with ephemeral keys; TLS 1.2 ones must say so in their name. */
  private static final Pattern SUITE = Pattern.compile(
      "TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)"
          + "|TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)");

  private TlsSockets() {}

  static ServerSocket serverSocket(ExporterConfig.Tls tls) throws IOException {
    SSLContext context = context(tls);
    SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
    SSLParameters parameters = context.getDefaultSSLParameters();
    parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
    parameters.setCipherSuites(suites(context.getSupportedSSLParameters().getCipherSuites()));
    parameters.setUseCipherSuitesOrder(true);
    socket.setSSLParameters(parameters);
    return socket;
  }

  /** The supported suites this server allows, in the JDK's order (strongest first). */
  static String[] suites(String[] supported) {
    String[] allowed = Arrays.stream(supported).filter(s -> SUITE.matcher(s).matches()).toArray(String[]::new);
    if (allowed.length == 0) {
      throw new IllegalStateException("this JDK supports none of the allowed TLS suites");
    }
    return allowed;
  }

  private static SSLContext context(ExporterConfig.Tls tls) throws IOException {
    try (InputStream in = Files.newInputStream(tls.keystoreFile())) {
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(in, tls.keystorePassword().toCharArray());
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, tls.keystorePassword().toCharArray());
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(kmf.getKeyManagers(), null, null);
      return ssl;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot load the TLS keystore " + tls.keystoreFile() + ": " + e.getClass().getSimpleName(), e);
    }
  }
}
