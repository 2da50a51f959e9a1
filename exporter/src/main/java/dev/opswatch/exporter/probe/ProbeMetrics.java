package dev.opswatch.exporter.probe;

import dev.opswatch.exporter.metrics.MetricFamilies;
import java.util.List;

/** Renders probe results as the app health families of docs/metrics.md. */
public final class ProbeMetrics {
  private ProbeMetrics() {}

  public static MetricFamilies render(List<ProbeResult> results) {
    MetricFamilies m = new MetricFamilies();
    for (ProbeResult r : results) {
      String target = r.target();
      m.gauge("opswatch_probe_success", "1 when the last probe got a readable healthy or degraded answer, else 0.",
          r.success() ? 1 : 0, "target", target);
      m.gauge("opswatch_probe_duration_seconds", "Duration of the last probe.", r.durationSeconds(), "target", target);
      m.gauge("opswatch_probe_http_status_code", "HTTP status of the last probe (0 without an answer).", r.httpStatus(), "target", target);
      m.stateSet("opswatch_probe_health_status", "The status the app reported (none set when the body could not be read).",
          HealthBody.STATUSES, r.health().map(HealthBody::status).orElse(null), "target", target);
      r.health().ifPresent(health -> health.checks().forEach((check, status) -> m.stateSet(
          "opswatch_probe_check_status", "Each reported check's status (none set when it is unknown).",
          HealthBody.CHECK_STATUSES, status, "target", target, "check", check)));
      m.stateSet("opswatch_probe_failure_reason", "Why the last probe failed (none when it got a readable answer).",
          FailureReason.LABELS, r.reason().label(), "target", target);
    }
    return m;
  }
}
