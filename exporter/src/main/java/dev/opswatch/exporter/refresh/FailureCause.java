package dev.opswatch.exporter.refresh;

import dev.opswatch.exporter.config.UrlMask;
import java.sql.SQLException;

/**
 * A failure as one line without secrets, naming its real cause: a pool's "request timed out"
 * carries the server's own error ("password authentication failed ...") or the network's
 * ({@code UnknownHostException}, {@code SocketTimeoutException}) as its cause, and that is what an
 * operator needs to read.
 */
public final class FailureCause {
  private FailureCause() {}

  public static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    StringBuilder line = new StringBuilder(summary(root));
    if (root instanceof SQLException sql && sql.getSQLState() != null) {
      line.append(" (SQLSTATE ").append(sql.getSQLState()).append(')');
    }
    if (root != e) {
      line.append(" [").append(summary(e)).append(']');
    }
    return UrlMask.mask(line.toString());
  }

  private static String summary(Throwable t) {
    String message = t.getMessage() == null ? "" : t.getMessage().lines().findFirst().orElse("").strip();
    return t.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
  }
}
