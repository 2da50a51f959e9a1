package dev.opswatch.exporter.incident;

import java.util.Optional;

/** Incident levels as the source app maps SafetyEvent severities: info=S0 ... critical=S3. */
public enum Severity {
  S0("info"),
  S1("warning"),
  S2("alert"),
  S3("critical");

  private final String safetyEventName;

  Severity(String safetyEventName) {
    this.safetyEventName = safetyEventName;
  }

  /** The SafetyEvent severity column's value for this level. */
  public String safetyEventName() {
    return safetyEventName;
  }

  /** The level of a SafetyEvent severity; empty for anything the app does not write (exact match). */
  public static Optional<Severity> ofSafetyEvent(String severity) {
    for (Severity s : values()) {
      if (s.safetyEventName.equals(severity)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }
}
