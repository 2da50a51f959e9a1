package dev.opswatch.exporter.model;

/** Warning and critical ratios of a limit; exceeded is always 1.0. Validated by the config loader. */
public record Thresholds(double warning, double critical) {}
