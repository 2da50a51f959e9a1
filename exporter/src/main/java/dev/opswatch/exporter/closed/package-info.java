/**
 * Closed time: spans of rows that no longer change except by correction, read from the database
 * once and kept, so that a refresh reads only the open rest. {@link ClosedHours} says where the
 * closed hours end ({@code late-row-grace} after an hour's end); {@link ClosedHoursCache} keeps
 * today's closed hours, {@link ClosedDaysCache} a period's past days or a whole closed period, and
 * {@link RollingHours} the whole hours of a rolling window. Each re-reads everything on its
 * {@code refresh} and when the clock goes back. Used by the costs, quotas and incidents sources.
 */
package dev.opswatch.exporter.closed;
