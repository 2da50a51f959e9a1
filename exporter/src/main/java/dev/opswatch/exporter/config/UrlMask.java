package dev.opswatch.exporter.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one function that makes text safe to log: every log line and error message that may hold a
 * URL (a database URL, a probe URL, a driver's exception message) goes through {@link #mask}.
 *
 * <p>It masks, wherever they appear in the text:
 * <ul>
 *   <li>the password of a URL's userinfo, the userinfo ending at the <em>last</em> {@code @} that is
 *       followed by a host, so that an unencoded {@code @} or {@code #} in a password is masked
 *       whole ({@code postgresql://u:p@s#s@host/db} becomes {@code postgresql://u:***@host/db});</li>
 *   <li>the same after a mistyped scheme ({@code postgresql:/u:p@host}, {@code postgresql:u:p@host});</li>
 *   <li>the value of every parameter whose name holds {@code password}, {@code passwd}, {@code pwd},
 *       {@code secret} or {@code token} ({@code password}, {@code sslpassword}, {@code access_token}),
 *       in a query string or as {@code key=value} anywhere in the text.</li>
 * </ul>
 * It errs towards masking too much: text it cannot read as a URL loses its userinfo rather than
 * showing it. Callers that reject a malformed URL should also say why rather than repeat it.
 */
public final class UrlMask {
  static final String MASK = "***";

  /** Where a URL's authority may start: {@code scheme://}, or a database scheme with a typo in its slashes. */
  private static final Pattern URL_START = Pattern.compile(
      "(?i)\\b(?:(?:jdbc:)?postgres(?:ql)?:/{0,3}|[a-z][a-z0-9+.-]*://)");
  /** A host list as PostgreSQL URLs allow ({@code h1:5432,h2:5433}), up to the path, query or fragment. */
  private static final Pattern HOSTS = Pattern.compile(
      "(?:[A-Za-z0-9._~%-]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]*)?(?:,(?:[A-Za-z0-9._~%-]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]*)?)*"
          + "(?=[/?#\\s'\")>,;]|$)");
  private static final Pattern SECRET_PARAMETER = Pattern.compile(
      "(?i)([\\w.-]*(?:password|passwd|pwd|secret|token)[\\w.-]*)=([^&;\\s'\")]*)");

  private UrlMask() {}

  /** {@code text} with every URL password and every password-like parameter value replaced by {@code ***}. */
  public static String mask(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    return maskParameters(maskBareUserinfo(maskUserinfo(text)));
  }

  private static String maskUserinfo(String text) {
    StringBuilder out = new StringBuilder(text.length());
    int copied = 0;
    Matcher start = URL_START.matcher(text);
    int from = 0;
    while (from < text.length() && start.find(from)) {
      int authority = start.end();
      int lineEnd = lineEnd(text, authority);
      int at = lastAtBeforeHost(text, authority, lineEnd);
      if (at < 0) {
        from = authority;
        continue;
      }
      out.append(text, copied, authority).append(maskedUserinfo(text.substring(authority, at)));
      copied = at;
      from = at + 1;
    }
    return out.append(text, copied, text.length()).toString();
  }

  /**
   * The last {@code @} on the line that is followed by a host list; else the last {@code @} before
   * the next white space (a URL with no usable host still hides its userinfo); -1 when there is none.
   */
  private static int lastAtBeforeHost(String text, int from, int to) {
    for (int at = text.lastIndexOf('@', to - 1); at >= from; at = text.lastIndexOf('@', at - 1)) {
      Matcher host = HOSTS.matcher(text).region(at + 1, text.length());
      if (host.lookingAt() && host.end() > at + 1) {
        return at;
      }
    }
    int space = from;
    while (space < to && !Character.isWhitespace(text.charAt(space))) {
      space++;
    }
    return text.lastIndexOf('@', space - 1) >= from ? text.lastIndexOf('@', space - 1) : -1;
  }

  /** {@code user:password@host} with no scheme at all: a word with a colon before its last {@code @}. */
  private static final Pattern BARE_USERINFO = Pattern.compile("(?<![^\\s'\"(<=])([A-Za-z0-9._%+-]+):([^\\s]*)@(?=[^\\s@]*$|[^\\s@]*\\s)");

  private static String maskBareUserinfo(String text) {
    Matcher m = BARE_USERINFO.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) {
      // Already masked, or a URL (scheme://) handled above.
      if (m.group(2).contains(MASK) || m.group(2).startsWith("/") || m.group(2).contains("://")) {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
      } else {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + ":" + MASK + "@"));
      }
    }
    m.appendTail(out);
    return out.toString();
  }

  private static int lineEnd(String text, int from) {
    int end = from;
    while (end < text.length() && text.charAt(end) != '\n' && text.charAt(end) != '\r') {
      end++;
    }
    return end;
  }

  /** {@code user:***} when the userinfo has a password, else the user alone (a user name is no secret). */
  private static String maskedUserinfo(String userinfo) {
    int colon = userinfo.indexOf(':');
    if (colon >= 0) {
      return userinfo.substring(0, colon) + ":" + MASK;
    }
    // No colon: a user name, unless it holds characters no user name has (then mask it whole).
    return userinfo.matches("[A-Za-z0-9._~%!$&'()*+,;=-]*") ? userinfo : MASK;
  }

  private static String maskParameters(String text) {
    Matcher m = SECRET_PARAMETER.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) {
      String value = m.group(2).isEmpty() ? "" : MASK;
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + "=" + value));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Whether a query parameter name holds a secret, by the same rule as {@link #mask}. */
  public static boolean isSecretParameter(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.contains("password") || n.contains("passwd") || n.contains("pwd") || n.contains("secret") || n.contains("token");
  }
}
