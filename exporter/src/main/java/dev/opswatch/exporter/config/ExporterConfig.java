package dev.opswatch.exporter.config;

import dev.opswatch.exporter.incident.IncidentConfig;
import dev.opswatch.exporter.model.Thresholds;
import dev.opswatch.exporter.probe.ProbeConfig;
import dev.opswatch.exporter.quota.QuotaConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole validated configuration, parsed once by {@link ConfigLoader} from reference.conf, the
 * user's file and the environment (passed in, never read from {@code System.getenv()} later): no
 * component reads raw config or the environment again.
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
    QuotaConfig quotas,
    IncidentConfig incidents,
    ProbeConfig probes) {

  /** The admin API exists only with a non-blank token; without one its routes answer 404. */
  public boolean adminApiEnabled() {
    return adminToken.filter(token -> !token.isBlank()).isPresent();
  }

  /**
   * The HTTP server.
   *
   * @param threads requests handled at once (not connections: each connection has a thread of its own)
   */
  public record Http(
      String bindAddress,
      int port,
      int threads,
      ClientLimits limits,
      Optional<BasicAuth> basicAuth,
      Optional<Tls> tls) {}

  /**
   * The HTTP server's limits against misbehaving clients.
   *
   * @param maxConnections open connections at most ({@code http.max-connections}); each has a thread
   * @param maxConnectionsPerAddress open connections from one client address at most
   * @param requestHeaderTimeout a request line and its headers (and, with TLS, the handshake) must
   *     arrive within this time from the connection's accept, or from the first byte of a later
   *     request on a kept-alive connection
   */
  public record ClientLimits(int maxConnections, int maxConnectionsPerAddress, Duration requestHeaderTimeout) {
    /** What reference.conf sets; for tests that build a server without a config. */
    public static final ClientLimits DEFAULTS = new ClientLimits(512, 32, Duration.ofSeconds(3));
  }

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

  /**
   * The refresh loops: jitter, staleness, and per source ({@code sources.<name>}) its refresh
   * interval and, for sources that read a month's closed days and hours, how often they re-read them
   * and how late a row may be written and still count at the next refresh, and how often a source
   * that reports the previous billing period re-reads it.
   */
  public record Sources(
      double jitter, Duration stalenessLimit, Map<String, Duration> refreshIntervals, Map<String, Duration> closedDaysRefreshes,
      Map<String, Duration> lateRowGraces, Map<String, Duration> previousPeriodRefreshes) {

    public Sources {
      refreshIntervals = Map.copyOf(refreshIntervals);
      closedDaysRefreshes = Map.copyOf(closedDaysRefreshes);
      lateRowGraces = Map.copyOf(lateRowGraces);
      previousPeriodRefreshes = Map.copyOf(previousPeriodRefreshes);
    }

    /** A source's refresh interval: {@code sources.<name>.refresh-interval}, else the fallback. */
    public Duration refreshInterval(String source, Duration fallback) {
      return refreshIntervals.getOrDefault(source, fallback);
    }

    /** How often a source re-reads the month's past days ({@code sources.<name>.closed-days-refresh}, else 1h). */
    public Duration closedDaysRefresh(String source) {
      return closedDaysRefreshes.getOrDefault(source, Duration.ofHours(1));
    }

    /** How often the closed previous billing period is re-read ({@code sources.<name>.previous-period-refresh}, else 24h). */
    public Duration previousPeriodRefresh(String source) {
      return previousPeriodRefreshes.getOrDefault(source, Duration.ofHours(24));
    }

    /** How long after its end an hour is re-read at every refresh before it is kept ({@code sources.<name>.late-row-grace}, else 5m). */
    public Duration lateRowGrace(String source) {
      return lateRowGraces.getOrDefault(source, Duration.ofMinutes(5));
    }
  }
}
