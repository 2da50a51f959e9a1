package dev.opswatch.exporter.quota;

/** A provider's external API calls in the error window, and how many of them failed. */
public record CallStats(QuotaProvider provider, long calls, long failures) {

  /** Failed / all calls; 0 when there were none. */
  public double errorRatio() {
    return calls == 0 ? 0 : (double) failures / calls;
  }
}
