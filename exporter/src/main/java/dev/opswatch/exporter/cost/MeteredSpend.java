package dev.opswatch.exporter.cost;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * What a metered provider's cost queries returned: EUR per query and usage per model over the
 * period so far, the part of it spent today, and the whole previous period (empty until it is read:
 * a source's first refresh leaves it out, see {@link CostSource}).
 */
public record MeteredSpend(Map<String, Double> costByQuery, List<ModelUsage> models, double todayEur,
    OptionalDouble previousPeriodEur) {

  public static final MeteredSpend NONE = new MeteredSpend(Map.of(), List.of(), 0, OptionalDouble.empty());

  public double totalEur() {
    return costByQuery.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
