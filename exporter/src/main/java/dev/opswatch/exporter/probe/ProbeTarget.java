package dev.opswatch.exporter.probe;

import java.util.List;
import java.util.Optional;

/** An endpoint to probe. The token is sent as a bearer token and never printed. */
public record ProbeTarget(String name, String url, Optional<String> bearerToken, List<String> checks) {
  @Override
  public String toString() {
    return "ProbeTarget[" + name + ", " + dev.opswatch.exporter.config.UrlMask.mask(url) + (bearerToken.isPresent() ? ", token ***" : "") + ", checks " + checks + "]";
  }
}
