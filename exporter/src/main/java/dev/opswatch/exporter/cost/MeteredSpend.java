package dev.opswatch.exporter.cost;

import java.util.List;
import java.util.Map;

/**
 * What a metered provider's cost queries returned: EUR per query and usage per model over the
 * period so far, the part of it spent today, and the whole previous period.
 */
public record MeteredSpend(Map<String, Double> costByQuery, List<ModelUsage> models, double todayEur, double previousPeriodEur) {

  public static final MeteredSpend NONE = new MeteredSpend(Map.of(), List.of(), 0, 0);

  public double totalEur() {
    return costByQuery.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
