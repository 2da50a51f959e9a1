package dev.opswatch.exporter.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.opswatch.exporter.Exporter;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.cost.CostReport;
import dev.opswatch.exporter.http.Responses;
import dev.opswatch.exporter.incident.IncidentReport;
import dev.opswatch.exporter.incident.RecentIncident;
import dev.opswatch.exporter.quota.QuotaReport;
import dev.opswatch.exporter.refresh.SnapshotStore;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin JSON API, served from the sources' last snapshots (never a database query per
 * request): {@code /api/cost-tracking} and {@code /api/incidents/recent}. Without a configured
 * token the routes do not exist, so they answer 404 like any unknown path.
 */
public final class AdminApi {
  public static final String COST_TRACKING = "/api/cost-tracking";
  public static final String RECENT_INCIDENTS = "/api/incidents/recent";

  /** Loaded on the first admin request, not at start: Jackson's classes are ~4 MiB of metaspace. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper();
  }

  private final SnapshotStore store;
  private final Exporter.Sources sources;

  private AdminApi(SnapshotStore store, Exporter.Sources sources) {
    this.store = store;
    this.sources = sources;
  }

  /** The routes, each behind the bearer token; none when no token is configured. */
  public static Map<String, HttpHandler> routes(ExporterConfig config, SnapshotStore store, Exporter.Sources sources) {
    Map<String, HttpHandler> routes = new LinkedHashMap<>();
    if (!config.adminApiEnabled()) {
      return routes;
    }
    String token = config.adminToken().orElseThrow();
    AdminApi api = new AdminApi(store, sources);
    routes.put(COST_TRACKING, new AdminAuth(token, api::costTracking));
    routes.put(RECENT_INCIDENTS, new AdminAuth(token, api::recentIncidents));
    return routes;
  }

  private void costTracking(HttpExchange exchange) throws IOException {
    Optional<CostReport> cost = store.payload(sources.costs());
    if (cost.isEmpty()) {
      unavailable(exchange, "costs");
      return;
    }
    List<QuotaReport> quotas = sources.quotas().stream().flatMap(source -> store.payload(source).stream()).toList();
    Responses.json(exchange, 200, write(CostDashboardBuilder.build(cost.get(), quotas)));
  }

  private void recentIncidents(HttpExchange exchange) throws IOException {
    Optional<IncidentReport> report = store.payload(sources.incidents());
    if (report.isEmpty()) {
      unavailable(exchange, "incidents");
      return;
    }
    List<IncidentJson> incidents = report.get().recent().stream().map(IncidentJson::of).toList();
    Responses.json(exchange, 200, write(new RecentIncidentsJson(incidents, report.get().computedAt().toString())));
  }

  private static void unavailable(HttpExchange exchange, String source) throws IOException {
    exchange.getResponseHeaders().set("Retry-After", "15");
    Responses.json(exchange, 503, write(Map.of("error",
        "no fresh data from source " + source + " yet: it has not refreshed successfully, or its data went stale")));
  }

  private static String write(Object value) {
    try {
      return Json.MAPPER.writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** {@code GET /api/incidents/recent}: newest first. */
  record RecentIncidentsJson(List<IncidentJson> incidents, String timestamp) {}

  /** One incident; severity is S0-S3. */
  record IncidentJson(String id, String timestamp, String source, String type, String action, String severity, String label) {
    static IncidentJson of(RecentIncident r) {
      return new IncidentJson(r.id(), r.timestamp().toString(), r.source(), r.type(), r.action(), r.severity().name(), r.label());
    }
  }
}
