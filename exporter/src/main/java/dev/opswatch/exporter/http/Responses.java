package dev.opswatch.exporter.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Small helpers for writing responses and comparing secrets. */
public final class Responses {
  private Responses() {}

  public static void text(HttpExchange exchange, int status, String body) throws IOException {
    send(exchange, status, "text/plain; charset=utf-8", body);
  }

  public static void json(HttpExchange exchange, int status, String body) throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    // The server sets it on every response; said here too, so that JSON never depends on that.
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    send(exchange, status, "application/json", body);
  }

  public static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** A whole plain-text response that closes the connection, for requests too broken to reach a handler. */
  static byte[] plain(int status, String message) {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + BufferedExchange.reason(status) + "\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "X-Content-Type-Options: nosniff\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "Connection: close\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = java.util.Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, all, headBytes.length, body.length);
    return all;
  }

  /** Compares secrets in time independent of where they differ. */
  public static boolean constantTimeEquals(String given, String expected) {
    if (given == null || expected == null) {
      return false;
    }
    return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }
}
