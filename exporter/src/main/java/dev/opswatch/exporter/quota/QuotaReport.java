package dev.opswatch.exporter.quota;

import java.time.Instant;
import java.util.List;

/**
 * One quota source's refresh: the usage of its quotas and, for the source that owns the error
 * window, the calls per provider. Shared by /metrics and the admin API.
 */
public record QuotaReport(Instant computedAt, List<QuotaUsage> usages, List<CallStats> calls) {}
