package dev.opswatch.exporter.config;

import dev.opswatch.exporter.model.Thresholds;
import java.util.List;
import java.util.OptionalDouble;

/**
 * One cost provider. A metered provider's cost is summed from its cost queries; a fixed
 * provider's cost is its monthly fee. {@code budgetEur} is empty for a fixed provider
 * without an explicit budget.
 */
public record ProviderConfig(
    String id,
    String displayName,
    Kind kind,
    double monthlyFeeEur,
    OptionalDouble budgetEur,
    Thresholds thresholds,
    List<String> costQueries) {

  public enum Kind {
    METERED,
    FIXED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
