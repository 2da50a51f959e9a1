package dev.opswatch.exporter;

import dev.opswatch.exporter.admin.AdminApi;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.cost.CostSource;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.http.ExporterHttpServer;
import dev.opswatch.exporter.incident.IncidentSource;
import dev.opswatch.exporter.metrics.StoreCollector;
import dev.opswatch.exporter.probe.ProbeSource;
import dev.opswatch.exporter.quota.QuotaSource;
import dev.opswatch.exporter.refresh.RefreshLoop;
import dev.opswatch.exporter.refresh.SnapshotStore;
import dev.opswatch.exporter.refresh.Source;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** The running exporter: database pool, refresh loops, snapshot store and HTTP server, wired. */
public final class Exporter implements AutoCloseable {
  private final Database database;
  private final RefreshLoop loop;
  private final ExporterHttpServer server;
  private final SnapshotStore store;
  private final Sources sources;

  /** The sources of one exporter, typed, so that the admin API reads each one's own report. */
  public record Sources(CostSource costs, List<QuotaSource> quotas, IncidentSource incidents, List<ProbeSource> probes) {
    public List<Source<?>> all() {
      List<Source<?>> all = new ArrayList<>();
      all.add(costs);
      all.addAll(quotas);
      all.add(incidents);
      all.addAll(probes);
      return all;
    }

    public static Sources of(ExporterConfig config, Database database) {
      List<ProbeSource> probes = config.probes().targets().isEmpty()
          ? List.of()
          : List.of(new ProbeSource(config, config.probes(), "opswatch-exporter/" + BuildInfo.version()));
      return new Sources(new CostSource(config, database), QuotaSource.create(config, database),
          new IncidentSource(config, database), probes);
    }
  }

  private Exporter(Database database, RefreshLoop loop, ExporterHttpServer server, SnapshotStore store, Sources sources) {
    this.database = database;
    this.loop = loop;
    this.server = server;
    this.store = store;
    this.sources = sources;
  }

  public static Exporter start(ExporterConfig config) throws IOException {
    Database database = new Database(config.database());
    SnapshotStore store = new SnapshotStore(config.sources().stalenessLimit(), Clock.systemUTC());
    Sources sources = Sources.of(config, database);
    RefreshLoop loop = new RefreshLoop(store, config.sources().jitter());
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, BuildInfo.version()));
    ExporterHttpServer server;
    try {
      server = new ExporterHttpServer(config.http(), registry, store, AdminApi.routes(config, store, sources));
    } catch (IOException | RuntimeException e) {
      database.close();
      throw e;
    }
    loop.start(sources.all());
    return new Exporter(database, loop, server, store, sources);
  }

  public int port() {
    return server.port();
  }

  /** The address and port actually bound, e.g. {@code 127.0.0.1:9824}. */
  public String listeningOn() {
    return server.listeningOn();
  }

  public SnapshotStore store() {
    return store;
  }

  public Sources sources() {
    return sources;
  }

  public Database database() {
    return database;
  }

  /** Stops serving first, then the refresh threads, then the pool; a few seconds at most. */
  @Override
  public void close() {
    server.close();
    loop.close();
    database.close();
  }
}
