package dev.opswatch.exporter.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.opswatch.exporter.http.Responses;
import java.io.IOException;

/** Lets a request through only with {@code Authorization: Bearer <token>}; 401 otherwise. */
final class AdminAuth implements HttpHandler {
  private static final String SCHEME = "Bearer ";

  private final String token;
  private final HttpHandler next;

  AdminAuth(String token, HttpHandler next) {
    this.token = token;
    this.next = next;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    String given = header != null && header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
        ? header.substring(SCHEME.length()).strip()
        : null;
    // Constant time, so that response times do not reveal how much of a guess was right.
    if (!Responses.constantTimeEquals(given, token)) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"opswatch\"");
      Responses.json(exchange, 401, "{\"error\":\"a valid Authorization: Bearer token is required\"}\n");
      return;
    }
    next.handle(exchange);
  }
}
