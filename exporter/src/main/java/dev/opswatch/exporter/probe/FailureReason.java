package dev.opswatch.exporter.probe;

import java.io.InterruptedIOException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;

/** Why a probe failed, as a bounded label value. */
public enum FailureReason {
  NONE,
  TIMEOUT,
  DNS,
  TLS,
  CONNECT,
  HTTP_STATUS,
  BAD_BODY;

  public static final List<String> LABELS = Arrays.stream(values()).map(FailureReason::label).toList();

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The reason for an exception from OkHttp: timeouts (connect, read or whole call), DNS, TLS, else connect. */
  public static FailureReason of(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      // SocketTimeoutException is one; OkHttp's call timeout is a plain InterruptedIOException("timeout").
      if (t instanceof InterruptedIOException) {
        return TIMEOUT;
      }
      if (t instanceof UnknownHostException) {
        return DNS;
      }
      if (t instanceof SSLException) {
        return TLS;
      }
    }
    return CONNECT;
  }
}
