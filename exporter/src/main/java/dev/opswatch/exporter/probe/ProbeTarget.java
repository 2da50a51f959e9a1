package dev.opswatch.exporter.probe;

import dev.opswatch.exporter.config.UrlMask;
import java.util.List;
import java.util.Optional;

/** An endpoint to probe. The token is sent as a bearer token and never printed. */
public record ProbeTarget(String name, String url, Optional<String> bearerToken, List<String> checks) {
  @Override
  public String toString() {
    return "ProbeTarget[" + name + ", " + UrlMask.mask(url) + (bearerToken.isPresent() ? ", token ***" : "") + ", checks " + checks + "]";
  }
}
