package dev.opswatch.exporter.testing;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Samples of a Prometheus text exposition, as a map from {@code name{k="v",...}} (labels sorted)
 * to value: what a scrape really shows, for assertions on exact series.
 */
public final class Exposition {
  private final Map<String, Double> samples;

  private Exposition(Map<String, Double> samples) {
    this.samples = samples;
  }

  /** The exposition client_java writes for these snapshots. */
  public static Exposition of(MetricSnapshots snapshots) {
    return parse(PrometheusTextFormatWriter.create().toDebugString(snapshots));
  }

  public static Exposition parse(String text) {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      String name;
      Map<String, String> labels = new TreeMap<>();
      String rest;
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        int end = parseLabels(line, brace + 1, labels);
        rest = line.substring(end + 1).trim();
      } else {
        name = line.substring(0, space);
        rest = line.substring(space + 1).trim();
      }
      String value = rest.split(" ")[0];
      samples.put(key(name, labels), Double.parseDouble(value.replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
    }
    return new Exposition(samples);
  }

  /** Scrapes a running exporter's /metrics. */
  public static Exposition scrape(int port) {
    return parse(Http.get(port, "/metrics").body());
  }

  /** Whether any series of the family is present. */
  public boolean hasFamily(String name) {
    return !series(name).isEmpty();
  }

  /** The sample's value; fails when the series is absent. */
  public double value(String name, String... labelPairs) {
    return find(name, labelPairs).orElseThrow(() -> new AssertionError(
        "no sample " + key(name, pairs(labelPairs)) + " in:\n" + String.join("\n", samples.keySet())));
  }

  public Optional<Double> find(String name, String... labelPairs) {
    return Optional.ofNullable(samples.get(key(name, pairs(labelPairs))));
  }

  /** The state of a StateSet series whose value is 1, or empty when none is. */
  public Optional<String> state(String family, String... labelPairs) {
    Map<String, String> wanted = pairs(labelPairs);
    for (Map.Entry<String, Double> e : samples.entrySet()) {
      if (e.getValue() == 1.0 && e.getKey().startsWith(family + "{")) {
        Map<String, String> labels = new TreeMap<>();
        parseLabels(e.getKey(), family.length() + 1, labels);
        String state = labels.remove(family);
        if (state != null && labels.equals(wanted)) {
          return Optional.of(state);
        }
      }
    }
    return Optional.empty();
  }

  /** Every series key of a family, for "absent" checks. */
  public List<String> series(String name) {
    List<String> keys = new ArrayList<>();
    for (String key : samples.keySet()) {
      if (key.equals(name) || key.startsWith(name + "{")) {
        keys.add(key);
      }
    }
    return keys;
  }

  public Map<String, Double> samples() {
    return samples;
  }

  private static Map<String, String> pairs(String... labelPairs) {
    Map<String, String> labels = new TreeMap<>();
    for (int i = 0; i + 1 < labelPairs.length; i += 2) {
      labels.put(labelPairs[i], labelPairs[i + 1]);
    }
    return labels;
  }

  private static String key(String name, Map<String, String> labels) {
    if (labels.isEmpty()) {
      return name;
    }
    List<String> parts = new ArrayList<>();
    labels.forEach((k, v) -> parts.add(k + "=\"" + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\""));
    return name + "{" + String.join(",", parts) + "}";
  }

  /** Parses {@code k="v",...} from {@code start} up to the closing brace; returns its index. */
  private static int parseLabels(String line, int start, Map<String, String> labels) {
    int i = start;
    while (line.charAt(i) != '}') {
      int eq = line.indexOf('=', i);
      String name = line.substring(i, eq).trim();
      StringBuilder value = new StringBuilder();
      int j = eq + 2;
      while (line.charAt(j) != '"') {
        char ch = line.charAt(j);
        if (ch == '\\') {
          char next = line.charAt(++j);
          value.append(next == 'n' ? '\n' : next);
        } else {
          value.append(ch);
        }
        j++;
      }
      labels.put(name, value.toString());
      i = j + 1;
      if (line.charAt(i) == ',') {
        i++;
      }
    }
    return i;
  }
}
