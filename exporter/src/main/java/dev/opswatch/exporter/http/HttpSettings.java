package dev.opswatch.exporter.http;

import com.typesafe.config.Config;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigLoader;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.config.Secrets;
import java.time.Duration;

/**
 * The HTTP server's limits against misbehaving clients ({@code opswatch.http.max-connections},
 * {@code max-connections-per-address}, {@code request-header-timeout}), and the admin token's
 * minimum length. Read here, in one place, so that the config loader's records stay as they are.
 *
 * @param maxConnections open connections at most; each has a thread of its own
 * @param maxConnectionsPerAddress open connections from one client address at most
 * @param requestHeaderTimeout a request line and its headers (and, with TLS, the handshake) must
 *     arrive within this time from the connection's accept, or from the first byte of a later
 *     request on a kept-alive connection
 */
public record HttpSettings(int maxConnections, int maxConnectionsPerAddress, Duration requestHeaderTimeout) {
  /** Shorter tokens are refused: the token is the admin API's only protection. */
  public static final int MIN_ADMIN_TOKEN_LENGTH = 16;

  /** What reference.conf sets; for tests that build a server without a config. */
  public static final HttpSettings DEFAULTS = new HttpSettings(512, 32, Duration.ofSeconds(3));

  public static HttpSettings parse(ExporterConfig config) {
    return parse(config.raw().getConfig("opswatch"));
  }

  /** Parses and validates the keys above in the {@code opswatch} object {@code c}. */
  public static HttpSettings parse(Config c) {
    int max = ConfigLoader.integer(c, "http.max-connections", 1, 10_000, "must be between 1 and 10000");
    int perAddress = ConfigLoader.integer(c, "http.max-connections-per-address", 1, 10_000, "must be between 1 and 10000");
    if (perAddress > max) {
      throw ConfigErrors.badValue(c, "http.max-connections-per-address", "must be at most http.max-connections (" + max + "), got " + perAddress);
    }
    Duration headerTimeout = ConfigLoader.positive(c, "http.request-header-timeout", Duration.ofMillis(100));
    if (headerTimeout.compareTo(Duration.ofSeconds(60)) > 0) {
      throw ConfigErrors.badValue(c, "http.request-header-timeout", "must be at most 60s, got " + c.getString("http.request-header-timeout"));
    }
    String bind = c.getString("http.bind-address").strip();
    if (!bind.matches("[0-9A-Fa-f:.]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      throw ConfigErrors.badValue(c, "http.bind-address", "must be an IP address such as 0.0.0.0, ::, 127.0.0.1 or a host name, got '"
          + bind.replaceAll("[^\\x20-\\x7e]", "?") + "'");
    }
    checkAdminToken(c);
    return new HttpSettings(max, perAddress, headerTimeout);
  }

  /** An admin token that is set must be long enough and fit in a header; the error names where it was set, never its value. */
  private static void checkAdminToken(Config c) {
    String path = c.hasPath("admin.token") && !c.getString("admin.token").isEmpty() ? "admin.token" : "admin.token-file";
    String token = Secrets.read(c, "admin.token", "admin.token-file").orElse("");
    if (token.isEmpty()) {
      return;
    }
    if (token.length() < MIN_ADMIN_TOKEN_LENGTH) {
      throw ConfigErrors.badValue(c, path, "the admin token must be at least " + MIN_ADMIN_TOKEN_LENGTH
          + " characters, got " + token.length() + " (e.g. openssl rand -hex 16)");
    }
    if (!token.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
      throw ConfigErrors.badValue(c, path, "the admin token must be printable ASCII without spaces (it travels in a header)");
    }
  }
}
