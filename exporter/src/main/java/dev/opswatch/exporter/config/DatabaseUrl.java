package dev.opswatch.exporter.config;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A PostgreSQL address given either as the app's own {@code postgresql://user:pass@host:port/db?...}
 * URL (what Supabase and Prisma users have) or as a {@code jdbc:postgresql:} URL. Credentials are
 * split out so that {@link #jdbcUrl()} carries no login password, and {@link #masked()} (through
 * {@link UrlMask}) no secret parameter either ({@code sslpassword} must stay in the JDBC URL, where
 * pgjdbc reads it).
 *
 * <p>The userinfo ends at the <em>last</em> {@code @} before the host, as {@link UrlMask} reads it, so
 * that an unencoded {@code @} or {@code #} in a password stays in the password instead of turning
 * its tail into a host name (and a DNS lookup). Error messages never repeat the URL unmasked.
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

  /** Query parameters that only Prisma understands; pgjdbc would reject or ignore them. */
  private static final Set<String> PRISMA_ONLY =
      Set.of("pgbouncer", "schema", "connection_limit", "pool_timeout", "statement_cache_size");
  private static final Pattern HOST_LIST = Pattern.compile(
      "(?:[A-Za-z0-9._~%-]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?(?:,(?:[A-Za-z0-9._~%-]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?)*");
  private static final Pattern SCHEME_TYPO = Pattern.compile("(?i)(jdbc:)?postgres(ql)?:(/?[^/].*|)", Pattern.DOTALL);

  public static DatabaseUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("is empty; set OPSWATCH_DATABASE_URL");
    }
    String trimmed = url.trim();
    if (trimmed.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
      throw new IllegalArgumentException("contains white space or a control character (percent-encode a space in a password as %20)");
    }
    if (trimmed.startsWith("jdbc:postgresql://")) {
      return parseHierarchical(trimmed.substring("jdbc:postgresql://".length()), false);
    }
    if (trimmed.startsWith("jdbc:postgresql:")) {
      return parseJdbcWithoutHost(trimmed);
    }
    if (trimmed.startsWith("postgresql://")) {
      return parseHierarchical(trimmed.substring("postgresql://".length()), true);
    }
    if (trimmed.startsWith("postgres://")) {
      return parseHierarchical(trimmed.substring("postgres://".length()), true);
    }
    if (SCHEME_TYPO.matcher(trimmed).matches()) {
      throw new IllegalArgumentException("must start with postgresql:// (two slashes), postgres:// or jdbc:postgresql: (got "
          + UrlMask.mask(trimmed) + ")");
    }
    throw new IllegalArgumentException(
        "must start with postgresql://, postgres:// or jdbc:postgresql: (got " + UrlMask.mask(trimmed) + ")");
  }

  /** {@code rest} is what follows {@code scheme://}: {@code [userinfo@]hosts[/db][?query]}. */
  private static DatabaseUrl parseHierarchical(String rest, boolean appUrl) {
    int at = lastAtBeforeHost(rest);
    String userInfo = at < 0 ? null : rest.substring(0, at);
    String afterUser = at < 0 ? rest : rest.substring(at + 1);
    int hostEnd = indexOfAny(afterUser, "/?#");
    String hosts = afterUser.substring(0, hostEnd);
    if (hosts.isEmpty() || !HOST_LIST.matcher(hosts).matches()) {
      // The host part may be a piece of a password that was cut at a '/', '?' or '#'.
      throw new IllegalArgumentException("has no valid host after the credentials (percent-encode '/', '?' and '#' in a "
          + "password as %2F, %3F and %23); got " + UrlMask.mask((appUrl ? "postgresql://" : "jdbc:postgresql://") + rest));
    }
    String tail = afterUser.substring(hostEnd);
    if (tail.indexOf('#') >= 0) {
      throw new IllegalArgumentException("has a '#' after the host, which a database URL cannot have (percent-encode it as %23)");
    }
    int query = tail.indexOf('?');
    String path = query < 0 ? tail : tail.substring(0, query);
    String database = path.startsWith("/") ? path.substring(1) : path;
    if (database.isEmpty()) {
      database = appUrl ? "postgres" : "";
    }
    String user = "";
    String password = "";
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
    }
    Map<String, String> params = new LinkedHashMap<>();
    if (query >= 0) {
      for (String pair : tail.substring(query + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : pair.substring(eq + 1);
        if (key.equals("user")) {
          user = decode(value);
        } else if (key.equals("password")) {
          password = decode(value);
        } else if (!(appUrl && PRISMA_ONLY.contains(key))) {
          // pgjdbc decodes parameter values itself: pass them on as written.
          params.put(key, value);
        }
      }
    }
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(hosts).append('/').append(database);
    String separator = "?";
    for (Map.Entry<String, String> e : params.entrySet()) {
      jdbc.append(separator).append(e.getKey());
      if (!e.getValue().isEmpty()) {
        jdbc.append('=').append(e.getValue());
      }
      separator = "&";
    }
    return new DatabaseUrl(jdbc.toString(), user, password);
  }

  /** {@code jdbc:postgresql:db} and {@code jdbc:postgresql:/} (local defaults): credentials from the query only. */
  private static DatabaseUrl parseJdbcWithoutHost(String url) {
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

  private static int lastAtBeforeHost(String rest) {
    for (int at = rest.lastIndexOf('@'); at >= 0; at = rest.lastIndexOf('@', at - 1)) {
      String afterAt = rest.substring(at + 1);
      String hosts = afterAt.substring(0, indexOfAny(afterAt, "/?#"));
      if (!hosts.isEmpty() && HOST_LIST.matcher(hosts).matches()) {
        return at;
      }
    }
    return -1;
  }

  private static int indexOfAny(String s, String chars) {
    for (int i = 0; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return s.length();
  }

  public DatabaseUrl withCredentials(String overrideUser, String overridePassword) {
    return new DatabaseUrl(
        jdbcUrl,
        overrideUser == null || overrideUser.isEmpty() ? user : overrideUser,
        overridePassword == null || overridePassword.isEmpty() ? password : overridePassword);
  }

  /** The address for logs and errors: never a password, nor a secret parameter such as {@code sslpassword}. */
  public String masked() {
    return UrlMask.mask(jdbcUrl) + (user.isEmpty() ? "" : " (user " + user + (password.isEmpty() ? "" : ", password " + UrlMask.MASK) + ")");
  }

  @Override
  public String toString() {
    return masked();
  }

  /**
   * Percent-decoding as in a URL ({@code +} stays a plus). A {@code %} not followed by two hex
   * digits is kept as it is: {@link java.net.URLDecoder} would throw with the input in its message.
   */
  private static String decode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
    int i = 0;
    while (i < s.length()) {
      if (s.charAt(i) == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
        bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
        i += 3;
      } else {
        int cp = s.codePointAt(i);
        bytes.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
        i += Character.charCount(cp);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }
}
