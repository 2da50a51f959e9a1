package dev.opswatch.exporter.quota;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One window's calls and units per provider label and action. */
record WindowUsage(Map<String, Map<String, Totals>> byLabel) {
  static final WindowUsage NONE = new WindowUsage(Map.of());

  record Totals(long calls, double units) {
    Totals plus(Totals other) {
      return new Totals(calls + other.calls, units + other.units);
    }
  }

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

  /** The usage of two adjacent spans together, such as a month's past days and today. */
  WindowUsage plus(WindowUsage other) {
    Map<String, Map<String, Totals>> sum = new HashMap<>();
    for (WindowUsage usage : List.of(this, other)) {
      usage.byLabel.forEach((label, byAction) -> byAction.forEach((action, totals) ->
          sum.computeIfAbsent(label, l -> new HashMap<>()).merge(action, totals, Totals::plus)));
    }
    return new WindowUsage(sum);
  }
}
