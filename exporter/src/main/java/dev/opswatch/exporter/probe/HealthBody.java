package dev.opswatch.exporter.probe;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The app's health answer: {@code {"status": "healthy"|"degraded"|"unhealthy", "checks": {"database":
 * {"status": "pass"|"warn"|"fail", ...}, ...}}}. Anything else is not a health body.
 */
public record HealthBody(String status, Map<String, String> checks) {
  public static final List<String> STATUSES = List.of("healthy", "degraded", "unhealthy");
  public static final List<String> CHECK_STATUSES = List.of("pass", "warn", "fail");

  /** Created on first use: most deployments never need it, and Jackson's classes cost ~4 MiB. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /** Whether the app says it can serve: healthy or degraded. */
  public boolean serving() {
    return status.equals("healthy") || status.equals("degraded");
  }

  /**
   * Parses a body; empty when it is not JSON or has no known {@code status}. Checks not in
   * {@code wanted} are dropped; a wanted check with an unknown status maps to null.
   */
  public static Optional<HealthBody> parse(byte[] body, List<String> wanted) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (root == null || !root.isObject() || !root.path("status").isTextual() || !STATUSES.contains(root.get("status").asText())) {
      return Optional.empty();
    }
    Map<String, String> checks = new LinkedHashMap<>();
    JsonNode reported = root.path("checks");
    for (String name : new LinkedHashSet<>(wanted)) {
      JsonNode check = reported.path(name);
      if (check.isObject()) {
        String status = check.path("status").asText("");
        checks.put(name, CHECK_STATUSES.contains(status) ? status : null);
      }
    }
    return Optional.of(new HealthBody(root.get("status").asText(), checks));
  }
}
