package dev.opswatch.exporter.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One request and its response, for the handlers written against the JDK's {@link HttpExchange}
 * (ours and client_java's {@code MetricsHandler}). The response is built in memory and written by
 * the connection after the handler returns, so a handler never waits on the network: a client that
 * reads slowly holds its own connection only. Responses here are small (an encoded snapshot).
 */
final class BufferedExchange extends HttpExchange {
  private static final InputStream NO_BODY = InputStream.nullInputStream();

  private final RequestHead request;
  private final Socket socket;
  private final Headers responseHeaders = new Headers();
  private final ByteArrayOutputStream body = new ByteArrayOutputStream(1024);
  private byte[] sharedBody;
  private final Map<String, Object> attributes = new HashMap<>();
  private int status = -1;
  private long declaredLength;
  private HttpPrincipal principal;

  BufferedExchange(RequestHead request, Socket socket) {
    this.request = request;
    this.socket = socket;
  }

  /** The same request with no response yet: for a 500 after a handler failed halfway through its response. */
  BufferedExchange afresh() {
    return new BufferedExchange(request, socket);
  }

  @Override
  public String getRequestMethod() {
    return request.method();
  }

  @Override
  public URI getRequestURI() {
    return request.uri();
  }

  @Override
  public String getProtocol() {
    return request.version();
  }

  @Override
  public InetSocketAddress getRemoteAddress() {
    return (InetSocketAddress) socket.getRemoteSocketAddress();
  }

  @Override
  public Headers getRequestHeaders() {
    return request.headers();
  }

  @Override
  public InputStream getRequestBody() {
    return NO_BODY;
  }

  @Override
  public InetSocketAddress getLocalAddress() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** There is one context, the whole server; handlers here do not ask for it. */
  @Override
  public HttpContext getHttpContext() {
    return null;
  }

  @Override
  public void setStreams(InputStream i, OutputStream o) {
    throw new UnsupportedOperationException("filters are not supported");
  }

  @Override
  public Object getAttribute(String name) {
    return attributes.get(name);
  }

  @Override
  public void setAttribute(String name, Object value) {
    attributes.put(name, value);
  }

  @Override
  public HttpPrincipal getPrincipal() {
    return principal;
  }

  void setPrincipal(HttpPrincipal principal) {
    this.principal = principal;
  }

  @Override
  public Headers getResponseHeaders() {
    return responseHeaders;
  }

  /** As the JDK's: {@code length} 0 means a body of any length, -1 none. */
  @Override
  public void sendResponseHeaders(int code, long length) throws IOException {
    if (status >= 0) {
      throw new IOException("headers already sent");
    }
    if (code < 100 || code > 999) {
      throw new IllegalArgumentException("bad status " + code);
    }
    status = code;
    declaredLength = length;
  }

  @Override
  public int getResponseCode() {
    return status;
  }

  boolean responded() {
    return status >= 0;
  }

  @Override
  public OutputStream getResponseBody() {
    return body;
  }

  /**
   * Sends {@code status} with {@code content} as the whole body, written from that array as it is:
   * for bodies that are never changed once made (the encoded /metrics bodies). The copies that the
   * {@link #getResponseBody()} path makes were 4x the garbage per scrape and, with the start
   * script's 16 MiB heap, halved the throughput at 64 clients (measured against the JDK server).
   */
  void sendUnchanging(int status, byte[] content) throws IOException {
    sendResponseHeaders(status, content.length == 0 ? -1 : content.length);
    sharedBody = content;
  }

  @Override
  public void close() {
    // The connection writes the response once the handler returns.
  }

  /** A response as it goes on the wire: the head, then the body (which may be shared, see {@link #sendUnchanging}). */
  record Wire(byte[] head, byte[] body) {
    /** Below this, head and body go out as one array (one packet); above it, a copy costs more than a second write. */
    static final int JOIN_BELOW = 8 * 1024;

    /** A whole response already encoded, such as {@link Responses#plain}'s. */
    static Wire of(byte[] response) {
      return new Wire(response, NONE);
    }

    void writeTo(OutputStream out) throws IOException {
      if (body.length == 0) {
        out.write(head);
      } else if (head.length + body.length < JOIN_BELOW) {
        byte[] all = java.util.Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        out.write(all);
      } else {
        out.write(head);
        out.write(body);
      }
    }
  }

  private static final byte[] NONE = new byte[0];

  /**
   * The whole response. The body length is what the handler wrote; a handler that declared a
   * fixed length and wrote another is a bug, answered with an {@link IOException}.
   */
  Wire encode(boolean close) throws IOException {
    byte[] content = sharedBody != null ? sharedBody : body.toByteArray();
    boolean head = request.method().equals("HEAD");
    boolean noBody = declaredLength < 0 || head || status == 204 || status == 304;
    if (declaredLength > 0 && content.length != declaredLength) {
      throw new IOException("handler declared " + declaredLength + " bytes and wrote " + content.length);
    }
    StringBuilder out = new StringBuilder(256);
    out.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    responseHeaders.set("Date", HttpDate.now());
    // Never guess a content type from the body, whatever the client (issue #19).
    responseHeaders.set("X-Content-Type-Options", "nosniff");
    if (!noBody) {
      responseHeaders.set("Content-Length", String.valueOf(content.length));
    } else if (!head && status != 204 && status != 304) {
      responseHeaders.set("Content-Length", "0");
    }
    if (close) {
      responseHeaders.set("Connection", "close");
    } else if (request.http10()) {
      responseHeaders.set("Connection", "keep-alive");
    }
    for (Map.Entry<String, List<String>> header : responseHeaders.entrySet()) {
      for (String value : header.getValue()) {
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
          throw new IOException("header " + header.getKey() + " holds a line break");
        }
        out.append(header.getKey()).append(": ").append(value).append("\r\n");
      }
    }
    out.append("\r\n");
    return new Wire(out.toString().getBytes(StandardCharsets.ISO_8859_1), noBody ? NONE : content);
  }

  /** The Date header's value, formatted once a second rather than once a response. */
  static final class HttpDate {
    private record Stamp(long second, String text) {}

    private static volatile Stamp last = new Stamp(Long.MIN_VALUE, "");

    private HttpDate() {}

    static String now() {
      long second = System.currentTimeMillis() / 1000;
      Stamp stamp = last;
      if (stamp.second() != second) {
        stamp = new Stamp(second, DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.ofInstant(java.time.Instant.ofEpochSecond(second), ZoneOffset.UTC)));
        last = stamp;
      }
      return stamp.text();
    }
  }

  static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 204 -> "No Content";
      case 304 -> "Not Modified";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 406 -> "Not Acceptable";
      case 413 -> "Content Too Large";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      case 505 -> "HTTP Version Not Supported";
      default -> "";
    };
  }
}
