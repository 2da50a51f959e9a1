package dev.opswatch.exporter.quota;

import java.util.Map;

/** One window's calls and units per provider label and action. */
record WindowUsage(Map<String, Map<String, Totals>> byLabel) {

  record Totals(long calls, double units) {}

  /** The quota's usage: its provider's calls of its actions, counted or summed as it measures. */
  double usageOf(QuotaDefinition quota) {
    double usage = 0;
    for (Map.Entry<String, Totals> e : byLabel.getOrDefault(quota.provider().label(), Map.of()).entrySet()) {
      if (quota.countsAction(e.getKey())) {
        usage += quota.measure() == QuotaDefinition.Measure.SUM ? e.getValue().units() : e.getValue().calls();
      }
    }
    return usage;
  }
}
