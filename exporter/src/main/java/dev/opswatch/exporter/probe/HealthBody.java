package dev.opswatch.exporter.probe;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The app's health answer, as docs/health-contract.md describes it: a JSON object with a
 * {@code status} ({@code healthy}, {@code degraded} or {@code unhealthy}) and {@code checks}, each
 * check either an object with its own {@code status} ({@code {"database": {"status": "pass"}}}) or
 * the status itself ({@code {"database": "pass"}}), a check status being {@code pass}, {@code warn}
 * or {@code fail}. Without a top-level {@code status}, the checks decide it: any {@code fail} is
 * unhealthy, else any {@code warn} degraded, else healthy. Anything else is an unrecognised body.
 */
public record HealthBody(String status, Map<String, String> checks) {
  public static final List<String> STATUSES = List.of("healthy", "degraded", "unhealthy");
  public static final List<String> CHECK_STATUSES = List.of("pass", "warn", "fail");

  /** Created on first use: most deployments never need it, and Jackson's classes cost ~4 MiB. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /**
   * What was read: the body when it is a health answer, and what did not fit the contract (empty
   * when all did). A problem with a body present is about single checks; without one, it says why
   * the body is unrecognised.
   */
  public record Reading(Optional<HealthBody> body, String problem) {
    static Reading unrecognised(String why) {
      return new Reading(Optional.empty(), "unrecognised body: " + why);
    }
  }

  /** Whether the app says it can serve: healthy or degraded. */
  public boolean serving() {
    return status.equals("healthy") || status.equals("degraded");
  }

  /** The body when it is a health answer; see {@link #read}. */
  public static Optional<HealthBody> parse(byte[] body, List<String> wanted) {
    return read(body, wanted).body();
  }

  /**
   * Reads a body. Checks not in {@code wanted} are dropped; a wanted check with an unknown status
   * maps to null (exported with no state set), and a wanted check the body lacks is left out.
   */
  public static Reading read(byte[] body, List<String> wanted) {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (IOException e) {
      return Reading.unrecognised("not JSON");
    }
    if (root == null || !root.isObject()) {
      return Reading.unrecognised("not a JSON object");
    }
    JsonNode reported = root.path("checks");
    if (!reported.isMissingNode() && !reported.isObject()) {
      return Reading.unrecognised("\"checks\" is not an object");
    }
    String status;
    JsonNode statusNode = root.get("status");
    if (statusNode != null) {
      if (!statusNode.isTextual() || !STATUSES.contains(statusNode.asText())) {
        return Reading.unrecognised("status " + shortly(statusNode) + " is not one of " + String.join(", ", STATUSES));
      }
      status = statusNode.asText();
    } else {
      Optional<String> derived = fromChecks(reported);
      if (derived.isEmpty()) {
        return Reading.unrecognised("no status, and no check with a status of " + String.join(", ", CHECK_STATUSES));
      }
      status = derived.get();
    }
    Map<String, String> checks = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String name : new LinkedHashSet<>(wanted)) {
      JsonNode check = reported.path(name);
      if (check.isMissingNode()) {
        missing.add(name);
        continue;
      }
      String value = checkStatus(check);
      checks.put(name, CHECK_STATUSES.contains(value) ? value : null);
      if (!CHECK_STATUSES.contains(value)) {
        problems.add("check " + name + " has status " + shortly(check.isObject() ? check.path("status") : check)
            + ", not one of " + String.join(", ", CHECK_STATUSES));
      }
    }
    if (!missing.isEmpty()) {
      problems.add("checks not in the body: " + String.join(", ", missing));
    }
    return new Reading(Optional.of(new HealthBody(status, checks)), String.join("; ", problems));
  }

  /** {@code {"status": "pass"}} or {@code "pass"}; "" for anything else. */
  private static String checkStatus(JsonNode check) {
    JsonNode value = check.isObject() ? check.path("status") : check;
    return value.isTextual() ? value.asText() : "";
  }

  private static Optional<String> fromChecks(JsonNode reported) {
    boolean any = false;
    boolean warn = false;
    for (Iterator<JsonNode> it = reported.elements(); it.hasNext(); ) {
      String value = checkStatus(it.next());
      if (value.equals("fail")) {
        return Optional.of("unhealthy");
      }
      warn |= value.equals("warn");
      any |= CHECK_STATUSES.contains(value);
    }
    return any ? Optional.of(warn ? "degraded" : "healthy") : Optional.empty();
  }

  /** A JSON value for a log line: short, and never more than 40 characters of the app's text. */
  private static String shortly(JsonNode node) {
    if (node.isMissingNode()) {
      return "(none)";
    }
    String text = node.toString();
    text = text.length() > 40 ? text.substring(0, 40) + "..." : text;
    return text.replaceAll("[\\p{Cntrl}]", "?");
  }
}
