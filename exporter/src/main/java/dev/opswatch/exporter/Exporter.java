package dev.opswatch.exporter;

import com.sun.net.httpserver.HttpHandler;
import dev.opswatch.exporter.admin.AdminApi;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.cost.CostSource;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.http.ExporterHttpServer;
import dev.opswatch.exporter.http.HttpSettings;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The running exporter: database pool, refresh loops, snapshot store and HTTP server, wired. */
public final class Exporter implements AutoCloseable {
  private final Database database;
  private final RefreshLoop loop;
  private final ExporterHttpServer server;
  private final SnapshotStore store;

  private Exporter(Database database, RefreshLoop loop, ExporterHttpServer server, SnapshotStore store) {
    this.database = database;
    this.loop = loop;
    this.server = server;
    this.store = store;
  }

  public static Exporter start(ExporterConfig config) throws IOException {
    Database database = new Database(config.database());
    SnapshotStore store = new SnapshotStore(config.sources().stalenessLimit(), Clock.systemUTC());
    List<Source> sources = sources(config, database);
    RefreshLoop loop = new RefreshLoop(store, config.sources().jitter());
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new StoreCollector(store, BuildInfo.version()));
    ExporterHttpServer server;
    try {
      server = new ExporterHttpServer(config.http(), HttpSettings.parse(config), registry, store, adminRoutes(config, store));
    } catch (IOException | RuntimeException e) {
      database.close();
      throw e;
    }
    loop.start(sources);
    return new Exporter(database, loop, server, store);
  }

  static List<Source> sources(ExporterConfig config, Database database) {
    List<Source> sources = new ArrayList<>();
    sources.add(new CostSource(config, database));
    FeatureConfigs features = FeatureConfigs.parse(config);
    sources.addAll(QuotaSource.create(config, features.quotas(), database));
    sources.add(new IncidentSource(config, features.incidents(), database));
    if (!features.probes().targets().isEmpty()) {
      sources.add(new ProbeSource(config, features.probes(), "opswatch-exporter/" + BuildInfo.version()));
    }
    return sources;
  }

  static Map<String, HttpHandler> adminRoutes(ExporterConfig config, SnapshotStore store) {
    return new LinkedHashMap<>(AdminApi.routes(config, store));
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
