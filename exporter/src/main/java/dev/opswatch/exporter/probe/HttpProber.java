package dev.opswatch.exporter.probe;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Probes a health endpoint once with OkHttp: connect, read and whole-call timeouts, no retries
 * (a probe reports what happened, it does not hide it), at most {@link #MAX_BODY_BYTES} read.
 */
public final class HttpProber {
  static final int MAX_BODY_BYTES = 64 * 1024;

  private final OkHttpClient client;
  private final String userAgent;

  /** @param userAgent e.g. {@code opswatch-exporter/0.1.0}, so the app's logs say who asks */
  public HttpProber(ProbeConfig config, String userAgent) {
    this.userAgent = userAgent;
    this.client = new OkHttpClient.Builder()
        .connectTimeout(config.connectTimeout())
        .readTimeout(config.readTimeout())
        .writeTimeout(config.readTimeout())
        .callTimeout(config.callTimeout())
        .retryOnConnectionFailure(false)
        // A fresh connection per probe, as blackbox_exporter does: the duration includes the
        // connect, and a connection the app closed while idle never fails a probe by itself.
        .connectionPool(new okhttp3.ConnectionPool(0, 1, java.util.concurrent.TimeUnit.SECONDS))
        .build();
  }

  /** Never throws: every failure is a {@link FailureReason}. */
  public ProbeResult probe(ProbeTarget target) {
    Request.Builder request = new Request.Builder()
        .url(target.url())
        .header("Accept", "application/json")
        .header("User-Agent", userAgent);
    // OkHttp drops this header when a redirect leaves the host, so a token never travels on.
    target.bearerToken().ifPresent(token -> request.header("Authorization", "Bearer " + token));
    long started = System.nanoTime();
    try (Response response = client.newCall(request.build()).execute()) {
      byte[] body = readLimited(response.body());
      double seconds = secondsSince(started);
      Optional<HealthBody> health = body == null ? Optional.empty() : HealthBody.parse(body, target.checks());
      FailureReason reason;
      if (!response.isSuccessful()) {
        reason = FailureReason.HTTP_STATUS;
      } else if (health.isEmpty()) {
        reason = FailureReason.BAD_BODY;
      } else {
        // An unhealthy status with HTTP 200 is not a failure of the probe: health shows it.
        reason = FailureReason.NONE;
      }
      return new ProbeResult(target.name(), seconds, response.code(), health, reason);
    } catch (IOException e) {
      return new ProbeResult(target.name(), secondsSince(started), 0, Optional.empty(), FailureReason.of(e));
    }
  }

  /** The body, or null when it is longer than {@link #MAX_BODY_BYTES} (not a health answer). */
  private static byte[] readLimited(ResponseBody body) throws IOException {
    if (body == null) {
      return new byte[0];
    }
    try (InputStream in = body.byteStream()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      return bytes.length > MAX_BODY_BYTES ? null : bytes;
    }
  }

  private static double secondsSince(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1e9;
  }
}
