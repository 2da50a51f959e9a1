package dev.opswatch.exporter.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PostgreSQL address given either as the app's own {@code postgresql://user:pass@host:port/db?...}
 * URL (what Supabase and Prisma users have) or as a {@code jdbc:postgresql:} URL. Credentials are
 * split out so that {@link #masked()} and {@link #jdbcUrl()} never carry the password.
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

  /** Query parameters that only Prisma understands; pgjdbc would reject or ignore them. */
  private static final java.util.Set<String> PRISMA_ONLY =
      java.util.Set.of("pgbouncer", "schema", "connection_limit", "pool_timeout", "statement_cache_size");

  public static DatabaseUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("is empty; set OPSWATCH_DATABASE_URL");
    }
    String trimmed = url.trim();
    if (trimmed.startsWith("jdbc:postgresql:")) {
      return parseJdbc(trimmed);
    }
    if (trimmed.startsWith("postgresql://") || trimmed.startsWith("postgres://")) {
      return parseApp(trimmed);
    }
    throw new IllegalArgumentException(
        "must start with postgresql://, postgres:// or jdbc:postgresql: (got " + maskAny(trimmed) + ")");
  }

  private static DatabaseUrl parseApp(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a valid URL: " + e.getReason());
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("has no host (got " + maskAny(url) + ")");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String database = path.startsWith("/") ? path.substring(1) : path;
    if (database.isEmpty()) {
      database = "postgres";
    }
    String user = "";
    String password = "";
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
    }
    Map<String, String> params = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        if (!PRISMA_ONLY.contains(key)) {
          params.put(key, value);
        }
      }
    }
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(uri.getHost());
    if (uri.getPort() > 0) {
      jdbc.append(':').append(uri.getPort());
    }
    jdbc.append('/').append(database);
    String separator = "?";
    for (Map.Entry<String, String> e : params.entrySet()) {
      jdbc.append(separator).append(e.getKey()).append('=').append(e.getValue());
      separator = "&";
    }
    return new DatabaseUrl(jdbc.toString(), user, password);
  }

  private static DatabaseUrl parseJdbc(String url) {
    // Credentials inside a JDBC URL are moved out, so that the URL itself is safe to log.
    int query = url.indexOf('?');
    if (query < 0) {
      return new DatabaseUrl(url, "", "");
    }
    String user = "";
    String password = "";
    StringBuilder rest = new StringBuilder(url.substring(0, query));
    String separator = "?";
    for (String pair : url.substring(query + 1).split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (key.equals("user")) {
        user = value;
      } else if (key.equals("password")) {
        password = value;
      } else if (!pair.isEmpty()) {
        rest.append(separator).append(pair);
        separator = "&";
      }
    }
    return new DatabaseUrl(rest.toString(), user, password);
  }

  public DatabaseUrl withCredentials(String overrideUser, String overridePassword) {
    return new DatabaseUrl(
        jdbcUrl,
        overrideUser == null || overrideUser.isEmpty() ? user : overrideUser,
        overridePassword == null || overridePassword.isEmpty() ? password : overridePassword);
  }

  /** The address for logs and errors: never a password. */
  public String masked() {
    return jdbcUrl + (user.isEmpty() ? "" : " (user " + user + (password.isEmpty() ? "" : ", password ***") + ")");
  }

  @Override
  public String toString() {
    return masked();
  }

  /** Masks the password of any URL-looking string, for error messages about unparseable input. */
  public static String maskAny(String text) {
    return text.replaceAll("(://[^:/@\\s]*:)[^@\\s]*@", "$1***@").replaceAll("(?i)(password=)[^&\\s]*", "$1***");
  }

  private static String decode(String s) {
    // URLDecoder is for forms, where '+' means space; in a URL it is a literal plus.
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}
