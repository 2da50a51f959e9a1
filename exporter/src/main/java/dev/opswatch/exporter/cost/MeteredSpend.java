package dev.opswatch.exporter.cost;

import java.util.List;
import java.util.Map;

/** What a metered provider's cost queries returned: EUR per query and usage per model. */
public record MeteredSpend(Map<String, Double> costByQuery, List<ModelUsage> models) {

  public double totalEur() {
    return costByQuery.values().stream().mapToDouble(Double::doubleValue).sum();
  }
}
