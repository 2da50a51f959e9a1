package dev.opswatch.exporter.probe;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import dev.opswatch.exporter.config.UrlMask;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Probes a health endpoint once with OkHttp: connect, read and whole-call timeouts, no retries
 * (a probe reports what happened, it does not hide it), at most {@link #MAX_BODY_BYTES} read.
 *
 * <p>Redirects are followed here, not by OkHttp, and only to the same origin (scheme, host and
 * port; at most {@link #MAX_REDIRECTS}), or not at all ({@code probes.redirects = none}): a health
 * endpoint has no business sending the exporter elsewhere, and a 302 to a link-local metadata
 * address must not become a request from inside the network (issue #19). A redirect not followed
 * is the answer: an {@code http_status} failure with its 3xx code.
 */
public final class HttpProber {
  static final int MAX_BODY_BYTES = 64 * 1024;
  static final int MAX_REDIRECTS = 5;

  private final OkHttpClient client;
  private final String userAgent;
  private final ProbeConfig.Redirects redirects;
  private final long callTimeoutNanos;

  /** @param userAgent e.g. {@code opswatch-exporter/0.1.0}, so the app's logs say who asks */
  public HttpProber(ProbeConfig config, String userAgent) {
    this.userAgent = userAgent;
    this.redirects = config.redirects();
    this.callTimeoutNanos = config.callTimeout().toNanos();
    this.client = new OkHttpClient.Builder()
        .connectTimeout(config.connectTimeout())
        .readTimeout(config.readTimeout())
        .writeTimeout(config.readTimeout())
        .callTimeout(config.callTimeout())
        .retryOnConnectionFailure(false)
        .followRedirects(false)
        .followSslRedirects(false)
        // A fresh connection per probe, as blackbox_exporter does: the duration includes the
        // connect, and a connection the app closed while idle never fails a probe by itself.
        .connectionPool(new okhttp3.ConnectionPool(0, 1, java.util.concurrent.TimeUnit.SECONDS))
        .build();
  }

  /** Never throws: every failure is a {@link FailureReason}. */
  public ProbeResult probe(ProbeTarget target) {
    long started = System.nanoTime();
    HttpUrl url = HttpUrl.get(target.url());
    try {
      for (int hop = 0; ; hop++) {
        try (Response response = call(target, url, started)) {
          String location = response.isRedirect() ? response.header("Location") : null;
          HttpUrl next = location == null ? null : url.resolve(location);
          if (next != null && redirects == ProbeConfig.Redirects.SAME_ORIGIN && sameOrigin(url, next) && hop < MAX_REDIRECTS) {
            url = next;
            continue;
          }
          if (response.isRedirect()) {
            String where = next == null ? "an unreadable Location" : UrlMask.mask(next.scheme() + "://" + next.host() + ":" + next.port());
            String why = redirects == ProbeConfig.Redirects.NONE ? "redirects are off"
                : next != null && sameOrigin(url, next) ? "more than " + MAX_REDIRECTS + " redirects" : "another origin";
            return new ProbeResult(target.name(), secondsSince(started), response.code(), Optional.empty(), FailureReason.HTTP_STATUS,
                "redirect to " + where + " not followed (" + why + ")");
          }
          return answer(target, response, started);
        }
      }
    } catch (IOException e) {
      return new ProbeResult(target.name(), secondsSince(started), 0, Optional.empty(), FailureReason.of(e));
    }
  }

  private Response call(ProbeTarget target, HttpUrl url, long started) throws IOException {
    Request.Builder request = new Request.Builder()
        .url(url)
        .header("Accept", "application/json")
        .header("User-Agent", userAgent);
    // Only ever sent to the target's own origin: redirects elsewhere are not followed.
    target.bearerToken().ifPresent(token -> request.header("Authorization", "Bearer " + token));
    Call call = client.newCall(request.build());
    // One call-timeout for the probe, redirects included.
    long remaining = callTimeoutNanos - (System.nanoTime() - started);
    if (remaining <= 0) {
      throw new java.io.InterruptedIOException("timeout");
    }
    call.timeout().timeout(remaining, TimeUnit.NANOSECONDS);
    return call.execute();
  }

  private static ProbeResult answer(ProbeTarget target, Response response, long started) throws IOException {
    byte[] body = readLimited(response.body());
    double seconds = secondsSince(started);
    HealthBody.Reading reading = body == null
        ? new HealthBody.Reading(Optional.empty(), "unrecognised body: longer than " + MAX_BODY_BYTES + " bytes")
        : HealthBody.read(body, target.checks());
    FailureReason reason;
    if (!response.isSuccessful()) {
      reason = FailureReason.HTTP_STATUS;
    } else if (reading.body().isEmpty()) {
      reason = FailureReason.BAD_BODY;
    } else {
      // An unhealthy status with HTTP 200 is not a failure of the probe: health shows it.
      reason = FailureReason.NONE;
    }
    return new ProbeResult(target.name(), seconds, response.code(), reading.body(), reason, reading.problem());
  }

  static boolean sameOrigin(HttpUrl a, HttpUrl b) {
    return a.scheme().equals(b.scheme()) && a.host().equalsIgnoreCase(b.host()) && a.port() == b.port();
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
