package dev.opswatch.exporter.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/** A parsed Prometheus text exposition: series (name and labels, as printed) to value. */
public final class Exposition {
  private final Map<String, Double> series = new LinkedHashMap<>();
  private final String text;

  private Exposition(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      series.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
    }
  }

  public static Exposition parse(String text) {
    return new Exposition(text);
  }

  public static Exposition scrape(int port) {
    return parse(Http.get(port, "/metrics").body());
  }

  /** The value of a series written exactly as exposed, e.g. {@code opswatch_source_up{source="costs"}}. */
  public OptionalDouble value(String seriesKey) {
    Double v = series.get(seriesKey);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  public double get(String seriesKey) {
    return value(seriesKey).orElseThrow(() -> new AssertionError("no series " + seriesKey + " in:\n" + text));
  }

  public boolean hasFamily(String name) {
    return series.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
  }

  public Map<String, Double> series() {
    return series;
  }

  public String text() {
    return text;
  }
}
