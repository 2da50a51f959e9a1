package dev.opswatch.exporter.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.Test;

class HealthBodyTest {
  private static final List<String> CHECKS = List.of("database", "ai_provider", "memory");

  private static Optional<HealthBody> parse(String json) {
    return HealthBody.parse(json.getBytes(StandardCharsets.UTF_8), CHECKS);
  }

  @Test
  void readsTheAppsHealthAnswer() {
    HealthBody body = parse("""
        {"status":"degraded","version":"0.24.8","timestamp":"2026-03-15T12:00:00Z","uptime":12.5,
         "checks":{"database":{"status":"pass","message":"Connected","latency_ms":3},
                   "ai_provider":{"status":"warn","message":"Ollama"},
                   "memory":{"status":"pass"},
                   "extra":{"status":"fail"}}}
        """).orElseThrow();
    assertEquals("degraded", body.status());
    assertTrue(body.serving());
    assertEquals(Map.of("database", "pass", "ai_provider", "warn", "memory", "pass"), body.checks(), "unlisted checks are dropped");
  }

  @Test
  void unknownCheckStatusesAreKeptAsUnknown() {
    HealthBody body = parse("{\"status\":\"unhealthy\",\"checks\":{\"database\":{\"status\":\"broken\"}}}").orElseThrow();
    Map<String, String> expected = new HashMap<>();
    expected.put("database", null);
    assertEquals(expected, body.checks());
    assertFalse(body.serving());
  }

  @Test
  void anythingElseIsNotAHealthBody() {
    assertEquals(Optional.empty(), parse("<html>502 Bad Gateway</html>"));
    assertEquals(Optional.empty(), parse("{\"status\":\"ok\"}"));
    assertEquals(Optional.empty(), parse("{\"status\":1}"));
    assertEquals(Optional.empty(), parse("[\"healthy\"]"));
    assertEquals(Optional.empty(), parse("{\"status\":\"healthy\"} trailing"));
    assertEquals(Optional.empty(), parse(""));
    assertEquals(Optional.of(new HealthBody("healthy", Map.of())), parse("{\"status\":\"healthy\"}"), "checks are optional");
  }

  /** docs/health-contract.md: both check shapes, and a status derived from the checks when the body has none. */
  @Test
  void bothCheckShapesAreRead() {
    assertEquals(Optional.of(new HealthBody("healthy", Map.of("database", "pass", "memory", "warn"))),
        parse("{\"status\":\"healthy\",\"checks\":{\"database\":\"pass\",\"memory\":{\"status\":\"warn\"}}}"));
    assertEquals(Optional.of(new HealthBody("healthy", Map.of("database", "pass"))), parse("{\"checks\":{\"database\":\"pass\"}}"));
    assertEquals("degraded", parse("{\"checks\":{\"database\":\"pass\",\"memory\":\"warn\"}}").orElseThrow().status());
    assertEquals("unhealthy", parse("{\"checks\":{\"database\":{\"status\":\"fail\"},\"memory\":\"warn\"}}").orElseThrow().status());
  }

  @Test
  void whatDoesNotFitIsSaid() {
    assertEquals("unrecognised body: not JSON", read("<html>502</html>").problem());
    assertEquals("unrecognised body: not a JSON object", read("[1]").problem());
    assertEquals("unrecognised body: \"checks\" is not an object", read("{\"status\":\"healthy\",\"checks\":[]}").problem());
    assertEquals("unrecognised body: no status, and no check with a status of pass, warn, fail", read("{\"checks\":{\"db\":\"up\"}}").problem());
    assertEquals("check database has status \"up\", not one of pass, warn, fail; checks not in the body: ai_provider, memory",
        read("{\"status\":\"healthy\",\"checks\":{\"database\":\"up\"}}").problem());
    assertEquals("", read("{\"status\":\"healthy\",\"checks\":{\"database\":\"pass\",\"ai_provider\":\"pass\",\"memory\":\"pass\"}}").problem());
  }

  private static HealthBody.Reading read(String json) {
    return HealthBody.read(json.getBytes(StandardCharsets.UTF_8), CHECKS);
  }

  @Test
  void failureReasonsOfExceptions() {
    assertEquals(FailureReason.TIMEOUT, FailureReason.of(new SocketTimeoutException("Read timed out")));
    assertEquals(FailureReason.TIMEOUT, FailureReason.of(new InterruptedIOException("timeout")));
    assertEquals(FailureReason.DNS, FailureReason.of(new UnknownHostException("app.invalid")));
    assertEquals(FailureReason.TLS, FailureReason.of(new SSLHandshakeException("PKIX path building failed")));
    assertEquals(FailureReason.TLS, FailureReason.of(new IOException("wrapped", new SSLPeerUnverifiedException("Hostname not verified"))));
    assertEquals(FailureReason.CONNECT, FailureReason.of(new ConnectException("Connection refused")));
    assertEquals(FailureReason.CONNECT, FailureReason.of(new IOException("unexpected end of stream")));
    assertEquals(List.of("none", "timeout", "dns", "tls", "connect", "http_status", "bad_body"), FailureReason.LABELS);
  }
}
