package dev.opswatch.exporter.probe;

import java.util.Optional;

/**
 * One probe of one target. {@code httpStatus} is 0 without an answer; {@code health} is empty when
 * the body could not be read as the app's health answer; {@code detail} says, for the log only,
 * what did not fit (an unrecognised body, an unknown check status, a redirect not followed), or "".
 */
public record ProbeResult(
    String target, double durationSeconds, int httpStatus, Optional<HealthBody> health, FailureReason reason, String detail) {

  public ProbeResult(String target, double durationSeconds, int httpStatus, Optional<HealthBody> health, FailureReason reason) {
    this(target, durationSeconds, httpStatus, health, reason, "");
  }

  /** An answer with a readable body whose status is healthy or degraded. */
  public boolean success() {
    return httpStatus >= 200 && httpStatus < 300 && health.map(HealthBody::serving).orElse(false);
  }
}
