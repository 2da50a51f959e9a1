package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.metrics.MetricFamily;
import dev.opswatch.exporter.metrics.Samples;
import dev.opswatch.exporter.model.Level;
import java.util.List;

/** The external quota families of docs/metrics.md, and how a {@link QuotaReport} fills them. */
public final class QuotaMetrics {
  static final MetricFamily USAGE = MetricFamily.gauge("opswatch_quota_usage",
      "Use in the quota's current window (tokens or requests, as the quota counts).", "provider", "quota");
  static final MetricFamily LIMIT = MetricFamily.gauge("opswatch_quota_limit",
      "The quota's limit per window.", "provider", "quota");
  static final MetricFamily USAGE_RATIO = MetricFamily.gauge("opswatch_quota_usage_ratio",
      "Quota usage / limit.", "provider", "quota");
  static final MetricFamily WARNING_RATIO = MetricFamily.gauge("opswatch_quota_warning_ratio",
      "Ratio at which the quota's status becomes warning.", "provider", "quota");
  static final MetricFamily CRITICAL_RATIO = MetricFamily.gauge("opswatch_quota_critical_ratio",
      "Ratio at which the quota's status becomes critical.", "provider", "quota");
  static final MetricFamily STATUS = MetricFamily.stateSet("opswatch_quota_status",
      "Quota status (ok, warning, critical, exceeded).", Level.LABELS, "provider", "quota");
  static final MetricFamily WINDOW = MetricFamily.gauge("opswatch_quota_window_seconds",
      "Length of the quota's window (a calendar month: the current month's length).", "provider", "quota");
  static final MetricFamily RESET = MetricFamily.gauge("opswatch_quota_reset_timestamp_seconds",
      "When the quota's calendar window resets.", "provider", "quota");
  static final MetricFamily CALLS = MetricFamily.gauge("opswatch_external_calls",
      "External API calls in the error window, by outcome.", "provider", "outcome");
  static final MetricFamily ERROR_RATIO = MetricFamily.gauge("opswatch_external_call_error_ratio",
      "Failed / all external API calls in the error window (0 without calls).", "provider");

  public static final List<MetricFamily> FAMILIES =
      List.of(USAGE, LIMIT, USAGE_RATIO, WARNING_RATIO, CRITICAL_RATIO, STATUS, WINDOW, RESET, CALLS, ERROR_RATIO);

  private QuotaMetrics() {}

  public static Samples render(QuotaReport report) {
    Samples m = new Samples();
    for (QuotaUsage u : report.usages()) {
      String provider = u.quota().provider().id();
      String quota = u.quota().id();
      m.add(USAGE, u.usage(), provider, quota);
      m.add(LIMIT, u.quota().limit(), provider, quota);
      m.add(USAGE_RATIO, u.ratio(), provider, quota);
      m.add(WARNING_RATIO, u.quota().thresholds().warning(), provider, quota);
      m.add(CRITICAL_RATIO, u.quota().thresholds().critical(), provider, quota);
      m.state(STATUS, u.level().label(), provider, quota);
      m.add(WINDOW, u.windowLength().toMillis() / 1000.0, provider, quota);
      u.reset().ifPresent(reset -> m.add(RESET, reset.getEpochSecond(), provider, quota));
    }
    for (CallStats c : report.calls()) {
      String provider = c.provider().id();
      m.add(CALLS, c.calls() - c.failures(), provider, "success");
      m.add(CALLS, c.failures(), provider, "failure");
      m.add(ERROR_RATIO, c.errorRatio(), provider);
    }
    return m;
  }
}
