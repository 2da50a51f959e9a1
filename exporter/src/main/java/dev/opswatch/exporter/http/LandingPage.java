package dev.opswatch.exporter.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/** The page at {@code /}: what this is and where to go. */
final class LandingPage implements HttpHandler {
  private final String html;

  LandingPage(Set<String> paths) {
    StringBuilder links = new StringBuilder();
    for (String path : List.copyOf(paths)) {
      if (!path.equals("/")) {
        links.append("<li><a href=\"").append(path).append("\">").append(path).append("</a></li>\n");
      }
    }
    this.html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>opswatch exporter</title></head>\n"
        + "<body><h1>opswatch exporter</h1>\n<p>Cost, budget, quota, incident and health metrics for Prometheus.</p>\n"
        + "<ul>\n" + links + "</ul>\n</body></html>\n";
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    Responses.send(exchange, 200, "text/html; charset=utf-8", html);
  }
}
