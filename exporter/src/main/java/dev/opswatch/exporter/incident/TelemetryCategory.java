package dev.opswatch.exporter.incident;

import java.util.List;

/**
 * A TelemetryEvent category counted as incidents at {@code severity}. With {@code actionContains},
 * only rows whose action contains one of the words (case-insensitive) count.
 */
public record TelemetryCategory(String category, Severity severity, List<String> actionContains) {

  /** A PostgreSQL regular expression for {@code lower(action)}, or null when every action counts. */
  String actionPattern() {
    // Words are validated to letters, digits, '_' and '-', none special in a regular expression.
    return actionContains.isEmpty() ? null : String.join("|", actionContains);
  }
}
