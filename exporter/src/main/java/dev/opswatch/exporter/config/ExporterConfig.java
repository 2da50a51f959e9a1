package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import dev.opswatch.exporter.model.Thresholds;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The validated exporter configuration. {@link #raw()} keeps the layered Typesafe config, so
 * that each feature can read and validate its own section next to the code that uses it.
 */
public record ExporterConfig(
    Http http,
    Optional<String> adminToken,
    Database database,
    Billing billing,
    Budget budget,
    List<ProviderConfig> providers,
    Map<String, CostQueryConfig> costQueries,
    double maxRowCostEur,
    Sources sources,
    Config raw) {

  /** The admin API exists only with a non-blank token; without one its routes answer 404. */
  public boolean adminApiEnabled() {
    return adminToken.filter(token -> !token.isBlank()).isPresent();
  }

  public record Http(
      String bindAddress,
      int port,
      int threads,
      Optional<BasicAuth> basicAuth,
      Optional<Tls> tls) {}

  public record BasicAuth(String username, String password) {
    @Override
    public String toString() {
      return "BasicAuth[" + username + ", ***]";
    }
  }

  public record Tls(Path keystoreFile, String keystorePassword) {
    @Override
    public String toString() {
      return "Tls[" + keystoreFile + ", ***]";
    }
  }

  public record Database(
      DatabaseUrl url,
      int poolSize,
      Duration connectTimeout,
      Duration acquireTimeout,
      Duration statementTimeout,
      Duration socketTimeout,
      String applicationName) {}

  public record Billing(ZoneId timeZone, Duration forecastMinElapsed) {}

  public record Budget(double totalEur, Thresholds thresholds) {}

  public record Sources(double jitter, Duration stalenessLimit, Config perSource) {
    /** A source's refresh interval: {@code sources.<name>.refresh-interval}, else the fallback. */
    public Duration refreshInterval(String source, Duration fallback) {
      String path = source + ".refresh-interval";
      return perSource.hasPath(path) ? perSource.getDuration(path) : fallback;
    }

    /** How often a source re-reads the month's past days ({@code sources.<name>.closed-days-refresh}, else 1h). */
    public Duration closedDaysRefresh(String source) {
      String path = source + ".closed-days-refresh";
      return perSource.hasPath(path) ? perSource.getDuration(path) : Duration.ofHours(1);
    }
  }
}
