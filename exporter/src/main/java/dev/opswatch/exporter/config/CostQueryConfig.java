package dev.opswatch.exporter.config;

import java.util.Map;

/**
 * A named SQL query that sums a metered provider's cost per model over the billing period.
 * {@code parameters} are the query's extra keys (e.g. {@code price_per_frame_eur}), bound to
 * {@code :name} placeholders alongside {@code :period_start}, {@code :period_end},
 * {@code :max_row_eur} and {@code :model}.
 */
public record CostQueryConfig(String name, String sql, String model, Map<String, Object> parameters) {}
