package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.metrics.MetricFamilies;
import dev.opswatch.exporter.model.Level;
import java.util.Arrays;
import java.util.List;

/** Renders a {@link QuotaReport} as the external quota families of docs/metrics.md. */
public final class QuotaMetrics {
  static final List<String> LEVELS = Arrays.stream(Level.values()).map(Level::label).toList();

  private QuotaMetrics() {}

  public static MetricFamilies render(QuotaReport report) {
    MetricFamilies m = new MetricFamilies();
    for (QuotaUsage u : report.usages()) {
      String[] labels = {"provider", u.quota().provider().id(), "quota", u.quota().id()};
      m.gauge("opswatch_quota_usage", "Use in the quota's current window (tokens or requests, as the quota counts).", u.usage(), labels);
      m.gauge("opswatch_quota_limit", "The quota's limit per window.", u.quota().limit(), labels);
      m.gauge("opswatch_quota_usage_ratio", "Quota usage / limit.", u.ratio(), labels);
      m.gauge("opswatch_quota_warning_ratio", "Ratio at which the quota's status becomes warning.", u.quota().thresholds().warning(), labels);
      m.gauge("opswatch_quota_critical_ratio", "Ratio at which the quota's status becomes critical.", u.quota().thresholds().critical(), labels);
      m.stateSet("opswatch_quota_status", "Quota status (ok, warning, critical, exceeded).", LEVELS, u.level().label(), labels);
      m.gauge("opswatch_quota_window_seconds", "Length of the quota's window (a calendar month: the current month's length).",
          u.windowLength().toMillis() / 1000.0, labels);
      u.reset().ifPresent(reset -> m.gauge("opswatch_quota_reset_timestamp_seconds", "When the quota's calendar window resets.",
          reset.getEpochSecond(), labels));
    }
    for (CallStats c : report.calls()) {
      String provider = c.provider().id();
      m.gauge("opswatch_external_calls", "External API calls in the error window, by outcome.", c.calls() - c.failures(),
          "provider", provider, "outcome", "success");
      m.gauge("opswatch_external_calls", "External API calls in the error window, by outcome.", c.failures(),
          "provider", provider, "outcome", "failure");
      m.gauge("opswatch_external_call_error_ratio", "Failed / all external API calls in the error window (0 without calls).",
          c.errorRatio(), "provider", provider);
    }
    return m;
  }
}
