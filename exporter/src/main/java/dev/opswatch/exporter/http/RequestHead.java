package dev.opswatch.exporter.http;

import com.sun.net.httpserver.Headers;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A request line and its headers, read whole before any handler runs. The exporter serves GET and
 * HEAD only, so a request body is never read: a request that announces one is answered and its
 * connection closed (see {@link #hasBody()}).
 */
record RequestHead(String method, URI uri, String version, Headers headers) {
  static final int MAX_BYTES = 16 * 1024;
  static final int MAX_HEADERS = 100;

  /** A request the server answers with {@code status} and then closes the connection. */
  static final class Malformed extends Exception {
    final int status;

    Malformed(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  boolean http10() {
    return version.equals("HTTP/1.0");
  }

  /** Whether the client asked to keep the connection open after this request. */
  boolean keepAlive() {
    String connection = headers.getFirst("Connection");
    if (http10()) {
      return connection != null && connection.equalsIgnoreCase("keep-alive");
    }
    return connection == null || !connection.equalsIgnoreCase("close");
  }

  /** A body this server will not read: Transfer-Encoding, or a Content-Length above 0. */
  boolean hasBody() {
    String length = headers.getFirst("Content-Length");
    return headers.containsKey("Transfer-Encoding") || (length != null && !length.equals("0"));
  }

  /**
   * Reads one request head, which must be complete by {@code deadlineNanos} ({@link System#nanoTime}).
   * Only time spent waiting for the client's bytes counts: the deadline is checked before each read
   * that would block, so bytes that arrived in time are read even if this thread ran late (a busy
   * machine must not cut requests that came whole). Returns null when the connection ends before
   * its first byte (a client closing an idle keep-alive connection).
   */
  static RequestHead read(Input in, java.net.Socket socket, long deadlineNanos) throws IOException, Malformed {
    byte[] buffer = new byte[512];
    int length = 0;
    while (true) {
      // in.available() asks the kernel (a syscall): only when the buffer is empty and time is up.
      if (in.buffered() == 0) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0 && in.available() == 0) {
          throw new java.net.SocketTimeoutException("request head not complete within the deadline");
        }
        socket.setSoTimeout((int) Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(remaining)));
      }
      int b = in.read();
      if (b < 0) {
        if (length == 0) {
          return null;
        }
        throw new java.io.EOFException("connection closed inside a request head");
      }
      if (length == buffer.length) {
        if (length >= MAX_BYTES) {
          throw new Malformed(431, "request head over " + MAX_BYTES + " bytes");
        }
        buffer = java.util.Arrays.copyOf(buffer, Math.min(length * 2, MAX_BYTES));
      }
      buffer[length++] = (byte) b;
      if (b == '\n' && endsHead(buffer, length)) {
        return parse(new String(buffer, 0, length, StandardCharsets.ISO_8859_1));
      }
      if (length == 1 && (b == '\r' || b == '\n')) {
        // Tolerate the stray CRLF some clients send between requests (RFC 9112, 2.2).
        length = 0;
      }
    }
  }

  private static boolean endsHead(byte[] b, int n) {
    return (n >= 2 && b[n - 2] == '\n') || (n >= 4 && b[n - 2] == '\r' && b[n - 3] == '\n' && b[n - 4] == '\r');
  }

  static RequestHead parse(String head) throws Malformed {
    // Lines end at LF, with an optional CR before it; a CR anywhere else is refused below.
    List<String> lines = java.util.Arrays.stream(head.split("\n", -1))
        .map(line -> line.endsWith("\r") ? line.substring(0, line.length() - 1) : line)
        .toList();
    String requestLine = lines.get(0);
    String[] parts = requestLine.split(" ", -1);
    if (parts.length != 3 || !isToken(parts[0]) || requestLine.indexOf('\r') >= 0) {
      throw new Malformed(400, "bad request line");
    }
    String version = parts[2];
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      throw new Malformed(version.matches("HTTP/[0-9]\\.[0-9]") ? 505 : 400, "unsupported version");
    }
    String target = parts[1];
    if (!target.startsWith("/")) {
      throw new Malformed(400, "the request target must be a path");
    }
    URI uri;
    try {
      uri = new URI(target);
    } catch (URISyntaxException e) {
      throw new Malformed(400, "bad request target");
    }
    Headers headers = new Headers();
    int count = 0;
    for (String line : lines.subList(1, lines.size())) {
      if (line.isEmpty()) {
        break;
      }
      if (++count > MAX_HEADERS) {
        throw new Malformed(431, "more than " + MAX_HEADERS + " headers");
      }
      int colon = line.indexOf(':');
      // No folded lines, no whitespace before the colon (RFC 9112, 5.1 and 5.2): both are smuggling tools.
      if (colon <= 0 || !isToken(line.substring(0, colon)) || line.indexOf('\r') >= 0 || line.indexOf('\0') >= 0) {
        throw new Malformed(400, "bad header line");
      }
      headers.add(line.substring(0, colon), line.substring(colon + 1).strip());
    }
    List<String> lengths = headers.get("Content-Length");
    if (lengths != null && (lengths.size() > 1 || !lengths.get(0).matches("[0-9]{1,18}") || headers.containsKey("Transfer-Encoding"))) {
      throw new Malformed(400, "conflicting or malformed Content-Length");
    }
    return new RequestHead(parts[0], uri, version, headers);
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * The connection's buffered input, which tells how many bytes it holds without asking the
   * kernel. Asking ({@code available()}) before every byte was a syscall per byte of each request
   * head: at 64 clients on one core that cost a third of the throughput (measured against the JDK
   * server, 2026-12-01).
   */
  static final class Input extends java.io.BufferedInputStream {
    Input(InputStream in, int size) {
      super(in, size);
    }

    /** Bytes read from the socket and not yet consumed. */
    synchronized int buffered() {
      return count - pos;
    }
  }
}
