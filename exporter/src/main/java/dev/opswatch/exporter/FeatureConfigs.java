package dev.opswatch.exporter;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.incident.IncidentConfig;
import dev.opswatch.exporter.probe.ProbeConfig;
import dev.opswatch.exporter.quota.QuotaConfig;
import java.util.Map;

/**
 * The sections each feature reads and validates itself from {@link ExporterConfig#raw()}:
 * {@code quotas}, {@code incidents} and {@code probes}. Parsing throws the same one-line
 * {@code ConfigException}s as the loader, so call it wherever the config is checked
 * ({@code --check-config} and start-up), not only when the sources are built.
 */
public record FeatureConfigs(QuotaConfig quotas, IncidentConfig incidents, ProbeConfig probes) {

  /** @param env the environment, for probe tokens named by {@code bearer-token-env} */
  public static FeatureConfigs parse(ExporterConfig config, Map<String, String> env) {
    return new FeatureConfigs(
        QuotaConfig.parse(config), IncidentConfig.parse(config), ProbeConfig.parse(config.raw().getConfig("opswatch"), env));
  }

  public static FeatureConfigs parse(ExporterConfig config) {
    return parse(config, System.getenv());
  }
}
