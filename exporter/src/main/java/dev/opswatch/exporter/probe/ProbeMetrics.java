package dev.opswatch.exporter.probe;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import java.util.List;

/** The app health families of docs/metrics.md, and how probe results fill them. */
public final class ProbeMetrics {
  static final MetricFamily SUCCESS = MetricFamily.gauge("opswatch_probe_success",
      "1 when the last probe got a readable healthy or degraded answer, else 0.", "target");
  static final MetricFamily DURATION = MetricFamily.gauge("opswatch_probe_duration_seconds",
      "Duration of the last probe.", "target");
  static final MetricFamily HTTP_STATUS = MetricFamily.gauge("opswatch_probe_http_status_code",
      "HTTP status of the last probe (0 without an answer).", "target");
  static final MetricFamily HEALTH = MetricFamily.stateSet("opswatch_probe_health_status",
      "The status the app reported (none set when the body could not be read).", HealthBody.STATUSES, "target");
  static final MetricFamily CHECK = MetricFamily.stateSet("opswatch_probe_check_status",
      "Each reported check's status (none set when it is unknown).", HealthBody.CHECK_STATUSES, "target", "check");
  static final MetricFamily FAILURE = MetricFamily.stateSet("opswatch_probe_failure_reason",
      "Why the last probe failed (none when it got a readable answer).", FailureReason.LABELS, "target");

  public static final List<MetricFamily> FAMILIES = List.of(SUCCESS, DURATION, HTTP_STATUS, HEALTH, CHECK, FAILURE);

  private ProbeMetrics() {}

  public static Samples render(List<ProbeResult> results) {
    Samples m = new Samples();
    for (ProbeResult r : results) {
      String target = r.target();
      m.add(SUCCESS, r.success() ? 1 : 0, target);
      m.add(DURATION, r.durationSeconds(), target);
      m.add(HTTP_STATUS, r.httpStatus(), target);
      m.state(HEALTH, r.health().map(HealthBody::status).orElse(null), target);
      r.health().ifPresent(health -> health.checks().forEach((check, status) -> m.state(CHECK, status, target, check)));
      m.state(FAILURE, r.reason().label(), target);
    }
    return m;
  }
}
