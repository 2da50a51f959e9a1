package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.model.Thresholds;
import java.util.List;

/**
 * One quota: which of a provider's calls it counts ({@code actions}, empty for all), how
 * ({@code measure}), over which window, against which limit.
 *
 * @param period the window as configured ({@code 1m}, {@code 24h}, {@code month}); the admin API's
 *     {@code period}
 */
public record QuotaDefinition(
    QuotaProvider provider,
    String id,
    String displayName,
    List<String> actions,
    Measure measure,
    QuotaWindow window,
    String period,
    double limit,
    Thresholds thresholds) {

  /** What a call adds to the usage. */
  public enum Measure {
    /** The row's value (tokens); 1 when it is NULL or 0, as the app writes it for a call without tokens. */
    SUM,
    /** 1 per call. */
    COUNT
  }

  public boolean countsAction(String action) {
    return actions.isEmpty() || actions.contains(action);
  }
}
